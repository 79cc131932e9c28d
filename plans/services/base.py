"""What the plan's services share: their error, and positions of rows in their lists."""

from django.db import transaction
from django.db.models import F, Max

from rooms.activity_log import activity_record
from rooms.models import ActivityEvent
from rooms.revision import room_touch


class PlanError(Exception):
    """A plan operation that cannot be done, with a message for the person asking."""


def _next_order(queryset):
    return (queryset.aggregate(m=Max("order"))["m"] or 0) + 1


# --- ordering ------------------------------------------------------------------------------


def _move(*, actor, room, queryset, pk, direction):
    """Swap a row with its neighbour above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise PlanError("Move up or down.")
    with transaction.atomic():
        rows = list(queryset.select_for_update().order_by("order", "created_at"))
        index = next((i for i, r in enumerate(rows) if r.pk == pk), None)
        if index is None:
            raise queryset.model.DoesNotExist
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(rows):
            return  # already first or last: nothing to do
        rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            if row.order != position:
                queryset.filter(pk=row.pk).update(order=position, version=F("version") + 1)
        moved = rows[other]
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.MOVED,
            target=moved,
            changes={"order": {"label": "Position", "from": str(index + 1), "to": str(other + 1)}},
        )
