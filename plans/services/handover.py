"""Handing a won room over to Customer Success."""

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import Membership
from rooms.activity_log import activity_record
from rooms.models import ActivityEvent, Outcome, Room
from rooms.revision import room_touch
from rooms.services import OutcomeError
from stakeholders.models import DecisionRole, Side, Stakeholder
from stakeholders.services import stakeholder_create

from ..models import (
    Plan,
)
from ..templates_builtin import ONBOARDING, schedule_forward
from .milestones import milestone_create
from .plan import plan_start
from .tasks import task_create

# --- hand-off to Customer Success ------------------------------------------------------


def room_handover(*, actor, membership, room_id, cs_owner_id):
    """Hand a won deal over to Customer Success: name the CS owner (a member of the
    organisation), mark the room handed over, and append the onboarding plan (kick-off,
    integration, training, go-live) dated forward from the signature date. Everything
    already in the room stays: plan, activity, views, comments, agreement, links."""
    rooms = Room.objects.for_membership(membership)
    room = rooms.get(pk=room_id)
    cs_member = None
    # Only a number a user id can be is looked up (beyond the column's range the query
    # itself would fail).
    if isinstance(cs_owner_id, int) and 0 < cs_owner_id < 2**63:
        cs_member = (
            Membership.objects.filter(org_id=room.org_id, user_id=cs_owner_id)
            .select_related("user")
            .first()
        )
    if cs_member is None:
        raise OutcomeError("Pick a member of your organisation as the Customer Success owner.")
    cs_user = cs_member.user
    now = timezone.now()
    with transaction.atomic():
        if not rooms.filter(pk=room_id, outcome=Outcome.WON).update(
            outcome=Outcome.HANDED_OVER,
            cs_owner=cs_user,
            handed_over_at=now,
            version=F("version") + 1,
            updated_at=now,
        ):
            if room.outcome == Outcome.HANDED_OVER:
                raise OutcomeError("This deal is already handed over.")
            raise OutcomeError("Only a deal marked won can be handed over.")
        room.refresh_from_db()
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.HANDED_OVER,
            target=room,
            target_label=cs_user.display_name,
            target_version=room.version,
            changes={
                "outcome": {"label": "Outcome", "from": "Won", "to": "Handed over"},
                "cs_owner": {
                    "label": "Customer Success owner",
                    "from": "",
                    "to": cs_user.display_name,
                },
            },
        )
        plan = Plan.objects.for_room(room).first()
        if plan is None:
            plan = plan_start(actor=actor, room=room, template_slug="empty")
        person = (
            Stakeholder.objects.for_room(room)
            .filter(side=Side.SELLER, email__iexact=cs_user.email)
            .first()
        )
        if person is None:
            person = stakeholder_create(
                actor=actor,
                room=room,
                name=cs_user.display_name,
                email=cs_user.email,
                side=Side.SELLER,
                role=DecisionRole.CUSTOMER_SUCCESS,
                title="Customer Success",
            )
        signed = room.signature_date()
        for spec in ONBOARDING:
            milestone = milestone_create(
                actor=actor,
                room=room,
                plan=plan,
                title=spec.title,
                target_date=schedule_forward(signed, spec.days_after_signature),
                lead_side=spec.lead_side,
                track=spec.track,
                completion_condition=spec.completion_condition,
            )
            for task in spec.tasks:
                seller_task = task.side == Side.SELLER
                task_create(
                    actor=actor,
                    room=room,
                    milestone=milestone,
                    title=task.title,
                    owner=person if seller_task else None,
                    due_date=schedule_forward(signed, task.days_after_signature),
                    **({} if seller_task else {"side": Side.BUYER}),
                )
    return room
