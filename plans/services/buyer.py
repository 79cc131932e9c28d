"""What a buyer does to the plan through their link: their tasks, milestones their side
leads, comments, agreeing to the plan."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mapsite.text import multi_line
from rooms.activity_log import activity_record
from rooms.models import ActivityEvent, Room
from rooms.revision import room_touch
from stakeholders.models import Side
from stakeholders.services import room_buyer_activity

from ..models import (
    Comment,
    Milestone,
    Plan,
    Task,
)
from .milestones import milestone_create
from .tasks import task_create, task_update

# --- buyers, comments, agreement ---------------------------------------------------------

BUYER_TASK_FIELDS = {"status", "notes", "evidence"}


def buyer_task_update(*, access, task_id, base_version, changes):
    """A buyer changes status, notes or evidence of a buyer-side task in their scope.
    A task outside their scope does not exist for them (DoesNotExist)."""
    stakeholder, room = access.stakeholder, access.room
    task = (
        Task.objects.for_room(room).visible_to(stakeholder).select_related("owner").get(pk=task_id)
    )
    if not task.buyer_editable:
        raise ValidationError("This is a task of the seller's team; only they update it.")
    if set(changes) - BUYER_TASK_FIELDS:
        raise ValidationError("You can update the status, notes and evidence of your tasks.")
    task = task_update(
        actor=access.actor,
        room=room,
        task_id=task.pk,
        base_version=base_version,
        changes=changes,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return task


def buyer_task_create(*, access, milestone_id, title, owner=None, due_date=None):
    """Co-creation: a buyer adds a task for their side (owned by them unless they name
    another buyer-side person)."""
    stakeholder, room = access.stakeholder, access.room
    milestone = Milestone.objects.for_room(room).get(pk=milestone_id)
    owner = owner or stakeholder
    if owner.room_id != room.pk or owner.side != Side.BUYER:
        raise ValidationError({"owner": "Pick a person on your side."})
    task = task_create(
        actor=access.actor,
        room=room,
        milestone=milestone,
        title=title,
        owner=owner,
        due_date=due_date,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return task


def buyer_milestone_create(*, access, title, target_date=None):
    """Co-creation: a buyer adds a decision point their side leads, in their track."""
    stakeholder, room = access.stakeholder, access.room
    plan = Plan.objects.get(room=room, org_id=room.org_id)
    milestone = milestone_create(
        actor=access.actor,
        room=room,
        plan=plan,
        title=title,
        target_date=target_date,
        lead_side=Side.BUYER,
        track=stakeholder.track,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return milestone


def comment_create(*, actor, room, task, body):
    """Add to a task's thread; both sides read it. ``task`` comes from the caller's
    scoped queryset."""
    body = multi_line(body).strip()  # no NUL or other invisible control characters
    if not body:
        raise ValidationError("Write something first.")
    if len(body) > Comment._meta.get_field("body").max_length:
        raise ValidationError("A comment has at most 5000 characters.")
    if task.room_id != room.pk:
        raise ValidationError("Pick a task of this plan.")
    with transaction.atomic():
        comment = Comment.objects.create(
            org_id=room.org_id,
            room=room,
            task=task,
            author_user=actor.user,
            author_stakeholder=actor.stakeholder,
            author_label=actor.label[:250],
            body=body,
        )
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.COMMENTED,
            target=task,
            changes={"comment": {"label": "Comment", "from": "", "to": body[:300]}},
        )
        if actor.stakeholder is not None:
            room_buyer_activity(room_id=room.pk, stakeholder=actor.stakeholder, contributed=True)
    return comment


def plan_agree(*, access):
    """The buyer agrees to the plan as it stands; its dates are remembered, so any later
    change shows as "changed since agreed"."""
    stakeholder, room = access.stakeholder, access.room
    now = timezone.now()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(room=room, org_id=room.org_id)
        Plan.objects.filter(pk=plan.pk).update(
            agreed_at=now,
            agreed_by=str(stakeholder),
            agreed_by_stakeholder=stakeholder,
            version=F("version") + 1,
            updated_at=now,
        )
        Room.objects.filter(pk=room.pk).update(plan_agreed_at=now)
        Task.objects.for_room(room).update(agreed_due_date=F("due_date"))
        Milestone.objects.for_room(room).update(agreed_target_date=F("target_date"))
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=access.actor,
            verb=ActivityEvent.Verb.AGREED,
            target=plan,
            target_label="the plan",
        )
        room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True, at=now)
    plan.refresh_from_db()
    return plan
