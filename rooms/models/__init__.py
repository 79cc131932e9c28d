"""The rooms app's models, one module each: the room (``room``), its activity log
(``activity``) and the tenant-scoped querysets (``querysets``).

Callers import from here: ``from rooms.models import Room``."""

from .activity import ActivityEvent, ActorKind, actor_key, copied_key
from .querysets import RoomQuerySet, RoomScopedQuerySet
from .room import (
    TIMEZONE_CHOICES,
    Outcome,
    Room,
    Stage,
    Weekday,
    clean_currency,
    go_live_problem,
    local_today,
    zone,
)

__all__ = [
    "TIMEZONE_CHOICES",
    "ActivityEvent",
    "ActorKind",
    "Outcome",
    "Room",
    "RoomQuerySet",
    "RoomScopedQuerySet",
    "Stage",
    "Weekday",
    "actor_key",
    "copied_key",
    "clean_currency",
    "go_live_problem",
    "local_today",
    "zone",
]
