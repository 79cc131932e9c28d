"""The lint of a plan: ``problems`` names what a seller should fix (dates before what
they wait for, vague completion conditions, tasks after their milestone or the close,
work planned in the past, no owner, no buyer task, too many tasks for the deal's size),
each with its one-click fix when there is one."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from .values import MILESTONE, TASK, day_label

# Tasks a plan of each size should hold (the deal-size guidance of the templates).
ITEM_GUIDANCE = {"light": (5, 10), "standard": (10, 15), "enterprise": (20, 30)}
DEFAULT_MAX_ITEMS = 30


@dataclass(frozen=True)
class Problem:
    code: str
    target: object  # the item's id (None: the plan as a whole)
    message: str
    fix: str = ""  # what the one-click fix does, when there is one
    fix_date: datetime.date | None = None


VAGUE_WORDS = {"", "done", "tbd", "tbc", "complete", "completed", "finished", "ok", "n/a"}


def problems(items, *, target_close=None, template=""):
    """What a seller should fix in the plan, each naming the item it is about."""
    items = list(items)
    by_id = {i.id: i for i in items}
    found = []
    for m in items:
        if m.kind != MILESTONE:
            continue
        deps = [by_id[d] for d in m.depends_on if d in by_id and by_id[d].date]
        if m.date and not m.done:
            late_dep = max(deps, key=lambda d: d.date, default=None)
            if late_dep and m.date < late_dep.date:
                fix_date = late_dep.date + datetime.timedelta(days=1)
                found.append(
                    Problem(
                        "date_before_dependency",
                        m.id,
                        f"“{m.title}” is dated before “{late_dep.title}”, which it waits for.",
                        fix=f"Move to {day_label(fix_date)}, after “{late_dep.title}”",
                        fix_date=fix_date,
                    )
                )
        if m.condition.strip().lower().rstrip(".") in VAGUE_WORDS:
            found.append(
                Problem(
                    "vague_condition",
                    m.id,
                    f"“{m.title}” has no completion condition anyone can check "
                    "(e.g. “sign-off email from the security lead”).",
                )
            )
    for t in items:
        if t.kind != TASK or t.done or t.date is None:
            continue
        m = by_id.get(t.milestone_id)
        if m and m.date and t.date > m.date:
            found.append(
                Problem(
                    "task_after_milestone",
                    t.id,
                    f"“{t.title}” is due after its milestone “{m.title}” ({day_label(m.date)}).",
                    fix=f"Move to {day_label(m.date)}",
                    fix_date=m.date,
                )
            )
    for i in items:
        if i.done or i.date is None:
            continue
        if target_close and i.date > target_close:
            found.append(
                Problem(
                    "after_close",
                    i.id,
                    f"“{i.title}” is dated after the target close ({day_label(target_close)}).",
                    fix=f"Move to {day_label(target_close)}",
                    fix_date=target_close,
                )
            )
        if i.created and i.date < i.created:
            found.append(
                Problem(
                    "in_past",
                    i.id,
                    f"“{i.title}” was already in the past when it was planned "
                    f"({day_label(i.date)}).",
                )
            )
        if i.kind == TASK and not i.has_owner:
            found.append(Problem("no_owner", i.id, f"“{i.title}” has no owner."))
    tasks = [i for i in items if i.kind == TASK]
    if tasks and not any(t.buyer_side for t in tasks):
        found.append(
            Problem(
                "no_buyer_tasks",
                None,
                "No task is the buyer's: a mutual plan needs work on both sides.",
            )
        )
    low, high = ITEM_GUIDANCE.get(template, (0, DEFAULT_MAX_ITEMS))
    if len(tasks) > high:
        size = f"a {template.title()} deal" if template in ITEM_GUIDANCE else "any deal"
        found.append(
            Problem(
                "too_many_items",
                None,
                f"{len(tasks)} tasks is more than {size} needs ({low}–{high}); "
                "buyers stop reading long plans.",
            )
        )
    return found
