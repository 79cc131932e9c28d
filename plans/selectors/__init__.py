"""Reads of a room's plan, in a fixed number of queries whatever the plan's size, by
concern: the seller's room page (``room``), what one buyer sees of their room
(``buyer``), the rows both pages read and how their rows are marked (``rows``), and the
plan as a schedule, with what a re-plan moves (``scheduling``).

Callers import from here: ``from plans import selectors`` or
``from plans.selectors import room_plan``."""

from .buyer import buyer_progress, buyer_room
from .room import CHOICES, milestone_in_context, room_plan, task_in_context
from .rows import annotate_task, plan_of, with_dependency_ids
from .scheduling import (
    dependencies_of,
    open_dated_work,
    replan_offer,
    room_schedule,
    schedule_items,
)

__all__ = [
    "CHOICES",
    "annotate_task",
    "buyer_progress",
    "buyer_room",
    "dependencies_of",
    "milestone_in_context",
    "open_dated_work",
    "plan_of",
    "replan_offer",
    "room_plan",
    "room_schedule",
    "schedule_items",
    "task_in_context",
    "with_dependency_ids",
]
