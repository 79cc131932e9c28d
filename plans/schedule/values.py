"""The plain values the schedule works with: a plan's milestones and tasks as ``Item``
rows, the waits-for ``Edge`` between two of them, each item's ``Projection``, what one
late item does (``Consequence``), and how days read in the schedule's sentences."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

MILESTONE = "milestone"
TASK = "task"


@dataclass(frozen=True)
class Item:
    """One milestone or task of a plan, as the schedule sees it."""

    id: object
    kind: str  # MILESTONE | TASK
    title: str
    date: datetime.date | None  # target date (milestone) or due date (task)
    done: bool = False
    completed: datetime.date | None = None  # the day it was done (room's timezone)
    milestone_id: object = None  # a task's milestone
    depends_on: tuple = ()  # a milestone's: ids of the milestones it waits for
    # For problems(): what a person sees and decides on.
    order: int = 0
    has_owner: bool = True
    buyer_side: bool = False
    condition: str = ""
    created: datetime.date | None = None  # the day it was created (room's timezone)


@dataclass(frozen=True)
class Edge:
    before: object  # the id of what is waited for
    after: object  # the id of what waits
    gap: int  # planned days between them


@dataclass
class Projection:
    item: Item
    projected: datetime.date | None
    late_days: int = 0  # days past its own date the item is projected to finish
    driver: object = None  # the id of what sets its projected date (None: itself)
    critical: bool = False
    slack_days: int | None = None

    @property
    def delay_days(self):
        if self.projected is None or self.item.date is None:
            return 0
        return max(0, (self.projected - self.item.date).days)

    @property
    def overdue(self):
        """Open, and its own date has passed: the cause of a delay, not its victim."""
        return self.late_days > 0


@dataclass
class Consequence:
    """What one late item does: the milestone it pushes first, and the close."""

    item: Item
    late_days: int
    pushes: Item | None = None
    pushes_days: int = 0
    close_days: int = 0  # how many days this item alone moves the projected close
    projected_close: datetime.date | None = None
    target_close: datetime.date | None = None

    @property
    def text(self):
        """One sentence for pages and alerts: the milestone it pushes and where the close
        goes, or that the close still holds (or had moved already, for other reasons)."""
        target = f" (target {day_label(self.target_close)})" if self.target_close else ""
        projected = self.projected_close
        pushed = ""
        if self.pushes is not None and self.pushes_days > 0:
            pushed = f"“{self.pushes.title}” by {days_label(self.pushes_days)}"
        if self.close_days > 0 and projected:
            if pushed:
                return f"This pushes {pushed} and the close to {day_label(projected)}{target}."
            return f"This pushes the close to {day_label(projected)}{target}."
        if projected and self.target_close and projected > self.target_close:
            holds = (
                "does not move the close, which the plan already puts at "
                f"{day_label(projected)}{target}"
            )
            return f"This pushes {pushed}; it {holds}." if pushed else f"It {holds}."
        close = (
            f"the close date of {day_label(self.target_close)}"
            if self.target_close
            else "the close date"
        )
        if pushed:
            return f"This pushes {pushed}; {close} still holds."
        return f"{close[0].upper()}{close[1:]} still holds."


def days_label(n):
    """ "1 day", "5 days"."""
    return f"{n} day" if n == 1 else f"{n} days"


def day_label(d):
    """ "24 Jan": how dates read in the schedule's sentences."""
    return f"{d.day} {d.strftime('%b')}"
