"""Writes to a room's stakeholder map, through the room's versioned write path, and
the room-level buyer signals the dashboard reads (see docs/DASHBOARD.md)."""

from django.db.models import Count, Min, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.dispatch import Signal
from django.utils import timezone

from rooms.models import Room
from rooms.versioning import versioned_create, versioned_delete, versioned_update

from .models import DecisionRole, Side, Stakeholder, ViewEvent

# Sent (with ``room_ids``) after people were added, changed or removed. Apps above this
# one recount what depends on people (plans: the buyer/seller split of tasks follows
# each task owner's side) without this app importing them.
people_changed = Signal()

# Who counts as an approver: anyone on the buyer side with approval authority, and the
# economic buyer.
APPROVER = Q(side=Side.BUYER) & (Q(approval_authority=True) | Q(role=DecisionRole.ECONOMIC_BUYER))


def is_approver(stakeholder):
    return stakeholder.side == Side.BUYER and (
        stakeholder.approval_authority or stakeholder.role == DecisionRole.ECONOMIC_BUYER
    )


def stakeholder_create(*, actor, room, name, **fields):
    person = Stakeholder(org_id=room.org_id, room=room, name=name, **fields)
    person = versioned_create(actor=actor, room=room, instance=person)
    _people_changed(room)
    return person


def stakeholder_update(*, actor, room, stakeholder_id, base_version, changes):
    person = versioned_update(
        actor=actor,
        room=room,
        queryset=Stakeholder.objects.for_room(room),
        pk=stakeholder_id,
        base_version=base_version,
        changes=changes,
    )
    _people_changed(room)
    return person


def stakeholder_delete(*, actor, room, stakeholder_id):
    """Remove a person; tasks and risks they owned keep going, without an owner."""
    versioned_delete(
        actor=actor, room=room, queryset=Stakeholder.objects.for_room(room), pk=stakeholder_id
    )
    _people_changed(room)


def _people_changed(room):
    room_people_recount([room.pk])
    people_changed.send(sender=Stakeholder, room_ids=[room.pk])


def room_people_recount(room_ids):
    """Recount each room's approvers and when the first of them opened it (one UPDATE).
    A person who becomes an approver brings their earlier views along."""
    approvers = Stakeholder.objects.filter(APPROVER, room=OuterRef("pk")).values("room")
    first_view = (
        ViewEvent.objects.filter(
            room=OuterRef("pk"),
            stakeholder__in=Stakeholder.objects.filter(APPROVER, room=OuterRef(OuterRef("pk"))),
        )
        .values("room")
        .annotate(first=Min("created_at"))
        .values("first")[:1]
    )
    Room.objects.filter(pk__in=list(room_ids)).update(
        approver_count=Coalesce(Subquery(approvers.annotate(n=Count("pk")).values("n")[:1]), 0),
        approver_opened_at=Subquery(first_view),
    )


def room_buyer_activity(*, room_id, stakeholder=None, contributed=False, at=None):
    """A buyer looked at the room (``contributed=False``) or edited, commented or agreed
    (``contributed=True``): move the room's buyer signals on. An approver's first look
    ends "approver dark"."""
    at = at or timezone.now()
    rooms = Room.objects.filter(pk=room_id)
    changes = {"last_buyer_activity_at": at}
    if contributed:
        changes["last_buyer_contribution_at"] = at
    rooms.update(**changes)
    if stakeholder is not None and is_approver(stakeholder):
        rooms.filter(approver_opened_at__isnull=True).update(approver_opened_at=at)
