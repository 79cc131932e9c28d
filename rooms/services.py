"""A deal room's own services: creating, changing, closing, reopening and deleting
a room. Every write goes through the versioned write path (rooms.versioning)."""

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from mapsite.text import single_line

from .activity_log import activity_record
from .models import ActivityEvent, Outcome, Room
from .revision import forget_revisions, room_touch
from .versioning import close_date_changed, versioned_create, versioned_update


def room_create(*, membership, actor, **fields):
    """Create a deal room in the member's organisation, owned by the member."""
    room = Room(org_id=membership.org_id, owner=membership.user, **fields)
    return versioned_create(actor=actor, room=room, instance=room)


def room_update(*, actor, membership, room_id, base_version, changes):
    room = versioned_update(
        actor=actor,
        room=Room.objects.for_membership(membership).get(pk=room_id),
        queryset=Room.objects.for_membership(membership),
        pk=room_id,
        base_version=base_version,
        changes=changes,
    )
    if "target_close_date" in changes:
        close_date_changed.send(sender=Room, room_ids=[room.pk])
    return room


class OutcomeError(Exception):
    """The deal's outcome cannot change that way; the message says why."""


def room_close(*, actor, membership, room_id, outcome, reason=""):
    """Mark an open deal won or lost. A lost deal needs its reason. One conditional
    UPDATE decides: of two people closing at once, the first one wins."""
    reason = single_line(reason)
    if outcome not in (Outcome.WON, Outcome.LOST):
        raise OutcomeError("A deal is closed as won or lost.")
    if outcome == Outcome.LOST and not reason:
        raise OutcomeError("Say why the deal was lost; the dashboard counts reasons.")
    if len(reason) > 500:
        raise OutcomeError("Keep the reason under 500 characters.")
    now = timezone.now()
    rooms = Room.objects.for_membership(membership)
    with transaction.atomic():
        room = rooms.get(pk=room_id)
        claimed = rooms.filter(pk=room_id, outcome=Outcome.OPEN).update(
            outcome=outcome,
            outcome_reason=reason,
            closed_at=now,
            version=F("version") + 1,
            updated_at=now,
        )
        if not claimed:
            raise OutcomeError(f"This deal is already {room.get_outcome_display().lower()}.")
        room_touch(room.pk, allow_read_only=True)
        room.refresh_from_db()
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.WON if outcome == Outcome.WON else ActivityEvent.Verb.LOST,
            target=room,
            target_label=reason or room.name,
            target_version=room.version,
            changes={
                "outcome": {"label": "Outcome", "from": "Open", "to": room.get_outcome_display()}
            },
        )
    return room


def room_reopen(*, actor, membership, room_id):
    """Undo a close made by mistake: the deal is open again, its history kept."""
    now = timezone.now()
    rooms = Room.objects.for_membership(membership)
    with transaction.atomic():
        room = rooms.get(pk=room_id)
        before = room.get_outcome_display()
        if not rooms.filter(pk=room_id, outcome__in=[Outcome.WON, Outcome.LOST]).update(
            outcome=Outcome.OPEN,
            outcome_reason="",
            closed_at=None,
            version=F("version") + 1,
            updated_at=now,
        ):
            raise OutcomeError("Only a deal marked won or lost can be reopened.")
        room_touch(room.pk, allow_read_only=True)
        room.refresh_from_db()
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.REOPENED,
            target=room,
            target_version=room.version,
            changes={"outcome": {"label": "Outcome", "from": before, "to": "Open"}},
        )
    return room


def room_change(*, actor, membership, room_id, base_version, changes, outcome=None, reason=""):
    """Fields and outcome changed together (one API PATCH): a closed deal is read-only,
    so it is reopened before the other changes and closed after them. Returns the
    room."""
    room = Room.objects.for_membership(membership).get(pk=room_id)
    if outcome == Outcome.OPEN and room.outcome != Outcome.OPEN:
        room = room_reopen(actor=actor, membership=membership, room_id=room_id)
    if changes:
        room = room_update(
            actor=actor,
            membership=membership,
            room_id=room_id,
            base_version=base_version,
            changes=changes,
        )
    if outcome is not None and outcome != room.outcome:
        room = room_close(
            actor=actor, membership=membership, room_id=room_id, outcome=outcome, reason=reason
        )
    return room


def room_delete(*, actor, membership, room_id):
    """Delete a deal room with everything in it (plan, people, links, activity): its
    owner, managers and admins may. ``Room.DoesNotExist`` for a room outside the
    member's organisation, ``PermissionDenied`` for another rep's room."""
    with transaction.atomic():
        room = Room.objects.for_membership(membership).select_for_update().get(pk=room_id)
        if room.owner_id != membership.user_id and not membership.sees_whole_org:
            raise PermissionDenied("Only the room's owner, managers and admins delete a room.")
        room.delete()
    transaction.on_commit(lambda: forget_revisions([room_id]))
    return room
