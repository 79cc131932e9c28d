"""Built-in plan templates, and how any template is laid out on a room.

The built-ins are data files in plans/playbooks/ in the template format of
plans/playbook_format.py, loaded through its one loader. Every milestone and task
carries an offset in calendar days and an anchor: *before the target close date*
(laid out backwards from the room's close date; a date on a weekend moves to the
Friday before it) or *after the start*, the day the plan is started (counted forwards;
a weekend date moves to the Monday after). A plan never starts in the past nor runs
past its close: when the template needs more days than are left before the close, its
offsets are compressed to fit between today and the close date, keeping their order
and relative spacing.
"""

import datetime
import json
from dataclasses import dataclass, field
from pathlib import Path

from .playbook_format import (
    START,
    MilestoneSpec,
    PlanTemplateSpec,
    PlaybookError,
    TaskSpec,
    playbook_load,
)

__all__ = ["MilestoneSpec", "PlanTemplateSpec", "TaskSpec"]

PLAYBOOKS_DIR = Path(__file__).parent / "playbooks"
# The built-ins, in the order the "start the plan" picker lists them.
BUILTIN_ORDER = ("light", "standard", "enterprise", "activation", "renewal")


def schedule_backwards(close_date: datetime.date, days_before_close: int) -> datetime.date:
    """``close_date`` minus the offset; a Saturday or Sunday becomes the Friday before."""
    day = close_date - datetime.timedelta(days=days_before_close)
    return _weekday_within(day, datetime.date.min, close_date)


# A milestone with fewer days than this between what it waits for (or today) and its
# own date, where the template planned more, is reported as squeezed.
SQUEEZED_DAYS = 2


@dataclass
class Layout:
    """Dates for a template's items on one room: ``milestones[i]`` and
    ``tasks[i][j]`` follow the spec's order."""

    milestones: list
    tasks: list
    compressed: bool = False  # offsets scaled to fit between today and the close
    squeezed: list = field(default_factory=list)  # titles of milestones left too little time
    needed_days: int = 0  # what the template plans between its first item and the close
    available_days: int = 0

    @property
    def message(self):
        """What the seller is told when the template had to be compressed ("" if not)."""
        if not self.compressed:
            return ""
        text = (
            f"This template plans {self.needed_days} days before the close date and "
            f"{self.available_days} are left, so its dates were fitted between today and "
            "the close date, in the same order."
        )
        if self.squeezed:
            names = ", ".join(f"“{title}”" for title in self.squeezed)
            text += f" Squeezed (under {SQUEEZED_DAYS} days each): {names}."
        return text


def _weekday_within(day, earliest, latest):
    """A weekend ``day`` moves to the Friday before, or, when that is before
    ``earliest``, to the Monday after if that is not after ``latest``."""
    if day.weekday() < 5:
        return day
    friday = day - datetime.timedelta(days=day.weekday() - 4)
    if friday >= earliest:
        return friday
    monday = day + datetime.timedelta(days=7 - day.weekday())
    return monday if monday <= latest else day


def _weekday_after(day, earliest, latest):
    """A weekend ``day`` moves to the Monday after, or, when that is after ``latest``,
    to the Friday before if that is not before ``earliest``."""
    if day.weekday() < 5:
        return day
    monday = day + datetime.timedelta(days=7 - day.weekday())
    if monday <= latest:
        return monday
    friday = day - datetime.timedelta(days=day.weekday() - 4)
    return friday if friday >= earliest else day


def _planned_before_close(item, needed):
    """Where the template itself puts ``item``, in days before the close, in a plan of
    ``needed`` days (a start-anchored item counts from the first of them)."""
    return needed - item.offset_days if item.anchor == START else item.offset_days


def needed_days(items):
    """The days a template plans between the start and the close: its largest offset;
    when it mixes anchors, its start-anchored work and then its close-anchored work
    (the largest offset of each, added), so that compressing it keeps every
    start-anchored item before every close-anchored one, as planned."""
    start = [i.offset_days for i in items if i.anchor == START]
    close = [i.offset_days for i in items if i.anchor != START]
    if start and close:
        return max(start) + max(close)
    return max(start or close or [0])


def layout(spec, close, today):
    """Lay ``spec`` out on a room closing on ``close`` and started ``today``: close-
    anchored items backwards from ``close``, start-anchored ones forwards from
    ``today``; never before ``today`` nor after the close (when the close itself is not
    after today, everything lands on the later of the two)."""
    items = list(spec.milestones) + [t for m in spec.milestones for t in m.tasks]
    needed = needed_days(items)
    available = max(0, (close - today).days)
    scale = 1.0 if needed <= available else (available / needed if needed else 1.0)
    latest = max(close, today)

    def date_for(item):
        if item.anchor == START:
            day = today + datetime.timedelta(days=round(item.offset_days * scale))
            return _weekday_after(day, today, latest)
        day = latest - datetime.timedelta(days=round(item.offset_days * scale))
        return _weekday_within(day, today, latest)

    milestone_dates = [date_for(m) for m in spec.milestones]
    task_dates = [[date_for(t) for t in m.tasks] for m in spec.milestones]
    result = Layout(
        milestone_dates,
        task_dates,
        compressed=scale < 1.0,
        needed_days=needed,
        available_days=available,
    )
    if result.compressed:
        for m, day in zip(spec.milestones, milestone_dates, strict=True):
            before = [milestone_dates[d] for d in m.depends_on] or [today]
            planned = [_planned_before_close(spec.milestones[d], needed) for d in m.depends_on] or [
                needed
            ]
            window = (day - max(before)).days
            planned_window = max(planned) - _planned_before_close(m, needed)
            if window < SQUEEZED_DAYS and planned_window > window:
                result.squeezed.append(m.title)
    return result


def _load_builtins():
    """The built-in templates, from their data files (plans/playbooks/*.json), through
    the one loader every template goes through."""
    found = {}
    for slug in BUILTIN_ORDER:
        path = PLAYBOOKS_DIR / f"{slug}.json"
        try:
            spec = playbook_load(json.loads(path.read_text(encoding="utf-8")))
        except PlaybookError as exc:
            raise PlaybookError([f"{path.name}: {p}" for p in exc.problems]) from None
        if spec.slug != slug:
            raise PlaybookError([f"{path.name}: its slug must be “{slug}”."])
        found[slug] = spec
    return found


BUILTIN_TEMPLATES = _load_builtins()


# --- onboarding, appended when a won deal is handed over to Customer Success ----------


def schedule_forward(start: datetime.date, days_after: int) -> datetime.date:
    """``start`` plus the offset; a Saturday or Sunday becomes the Monday after."""
    day = start + datetime.timedelta(days=days_after)
    if day.weekday() >= 5:
        day += datetime.timedelta(days=7 - day.weekday())
    return day


@dataclass(frozen=True)
class OnboardingTask:
    title: str
    days_after_signature: int
    side: str  # "buyer" | "seller"; seller-side tasks go to the Customer Success owner


@dataclass(frozen=True)
class OnboardingMilestone:
    title: str
    days_after_signature: int
    lead_side: str
    track: str
    completion_condition: str
    tasks: tuple[OnboardingTask, ...]


OT = OnboardingTask
ONBOARDING = (
    OnboardingMilestone(
        "Onboarding kick-off",
        7,
        "seller",
        "business",
        "Kick-off held; success criteria and owners confirmed in writing",
        (
            OT("Schedule the kick-off with both teams", 2, "seller"),
            OT("Confirm success criteria and the go-live date", 7, "buyer"),
        ),
    ),
    OnboardingMilestone(
        "Integration",
        28,
        "buyer",
        "technical",
        "Integration runs end to end in the customer's environment",
        (
            OT("Provision accounts and single sign-on", 10, "buyer"),
            OT("Connect the integrations and migrate data", 24, "seller"),
            OT("Customer verifies the data end to end", 28, "buyer"),
        ),
    ),
    OnboardingMilestone(
        "Training",
        42,
        "seller",
        "business",
        "Every named user trained; attendance list shared",
        (
            OT("Train the administrators", 35, "seller"),
            OT("Train the end users", 42, "seller"),
        ),
    ),
    OnboardingMilestone(
        "Go-live",
        56,
        "buyer",
        "business",
        "Go-live sign-off from the executive sponsor",
        (
            OT("Go-live readiness review", 52, "seller"),
            OT("Go-live sign-off", 56, "buyer"),
        ),
    ),
)
