"""The room's revision: the one number a live viewer watches.

Every write to a room's content moves it on (``room_touch``), which is also where a
room closed as lost refuses to change (``RoomReadOnly``); a short-lived hint of it in
the shared cache lets a live poll that finds nothing new skip SQL.
"""

from django.core.cache import cache
from django.db import transaction
from django.db.models import F

from .models import Outcome, Room

# The room's revision is also kept in the shared cache as a short-lived hint, so a live
# poll that finds nothing new needs no SQL at all. The database stays the record: a
# commit that moves the revision drops the hint, the next poll reads the database and
# puts it back, and a hint never lives longer than a few seconds.
REVISION_HINT_TTL = 5  # seconds


def revision_hint_key(room_id):
    return f"live:rev:{room_id}"


def forget_revisions(room_ids):
    cache.delete_many([revision_hint_key(pk) for pk in room_ids])


class RoomReadOnly(Exception):  # noqa: N818 - a refusal, not a crash
    """The room is closed as lost: its content is kept as it was."""

    def __init__(self, room_id=None):
        super().__init__(
            "This deal was marked lost, so the room is read-only. "
            "A member of the seller's team can reopen it to make changes."
        )
        self.room_id = room_id


def room_touch(room_id, *, allow_read_only=False):
    """Move the room's revision on; viewers learn from it that something changed.

    Every write to a room's content calls this inside its transaction, so this is where
    a lost (read-only) room refuses: the conditional UPDATE moves nothing and the
    caller's transaction rolls back with ``RoomReadOnly``. Closing and reopening pass
    ``allow_read_only``.
    """
    rooms = Room.objects.filter(pk=room_id)
    if not allow_read_only:
        rooms = rooms.exclude(outcome=Outcome.LOST)
    if not rooms.update(revision=F("revision") + 1):
        if Room.objects.filter(pk=room_id).exists():
            raise RoomReadOnly(room_id)
        raise Room.DoesNotExist
    transaction.on_commit(lambda: forget_revisions([room_id]))


def room_writable(room):
    """Refuse early (before any work) when the room is read-only."""
    if Room.objects.filter(pk=room.pk, outcome=Outcome.LOST).exists():
        raise RoomReadOnly(room.pk)
