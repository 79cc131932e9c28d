"""The plan as a schedule: when will it really finish, and what moves the close date.

Pure functions over plain values (no database access): ``project`` takes the plan's
milestones and tasks as ``Item`` rows and answers with a ``Schedule``; ``problems``
lints a plan. ``plans.selectors.room_schedule`` builds the items from a room.

The rule
--------
Every dated item keeps its *planned gap* to what it waits for:

- a milestone waits for the milestones it depends on (gap: the planned days between
  their dates, never less than 0);
- a milestone finishes no earlier than each of its tasks (plus the planned days between
  the task's due date and the milestone's date, never less than 0);
- the tasks of a milestone that waits for others keep their planned distance to what
  the milestone waits for (so they shift by its delay).

An open item whose date has passed finishes *today* at the earliest; a done item
finished when it was completed, whatever it waited for. An item's projected date is
the latest of its own date (today, if that has passed) and, for each thing it waits
for, that thing's projected date plus the planned gap. The projected close is the
latest projected milestone date; the slip is how far that lies past the target close.

The package, by concern: the plain values the schedule works with and how its days
read (``values``), the waits-for graph between the items (``graph``), the projection
itself with its critical path, slack and consequences (``projection``), and the lint
of a plan (``lint``). Callers import from here: ``from plans import schedule``.
"""

from .graph import edges, topological_order
from .lint import DEFAULT_MAX_ITEMS, ITEM_GUIDANCE, VAGUE_WORDS, Problem, problems
from .projection import Schedule, project
from .values import (
    MILESTONE,
    TASK,
    Consequence,
    Edge,
    Item,
    Projection,
    day_label,
    days_label,
)

__all__ = [
    "DEFAULT_MAX_ITEMS",
    "ITEM_GUIDANCE",
    "MILESTONE",
    "TASK",
    "VAGUE_WORDS",
    "Consequence",
    "Edge",
    "Item",
    "Problem",
    "Projection",
    "Schedule",
    "day_label",
    "days_label",
    "edges",
    "problems",
    "project",
    "topological_order",
]
