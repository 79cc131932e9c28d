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
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

MILESTONE = "milestone"
TASK = "task"

# Tasks a plan of each size should hold (the deal-size guidance of the templates).
ITEM_GUIDANCE = {"light": (5, 10), "standard": (10, 15), "enterprise": (20, 30)}
DEFAULT_MAX_ITEMS = 30


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

    @property
    def text(self):
        if self.pushes is None or self.pushes_days <= 0:
            return "No effect on the close date yet."
        pushed = f"Pushes “{self.pushes.title}” by {_days(self.pushes_days)}"
        if self.close_days > 0 and self.projected_close:
            return f"{pushed} and the close to {_day(self.projected_close)}."
        return f"{pushed}; the close date still holds."


@dataclass
class Schedule:
    today: datetime.date
    target_close: datetime.date | None
    items: dict = field(default_factory=dict)  # id -> Projection, in plan order
    projected_close: datetime.date | None = None
    critical_path: list = field(default_factory=list)  # ids, first to last
    all_done: bool = False
    problems: list = field(default_factory=list)  # filled by the caller (see problems())

    @property
    def slip_days(self):
        """Days the projected close lies past the target (0 on time; negative only when
        everything is done early)."""
        if self.projected_close is None or self.target_close is None:
            return 0
        days = (self.projected_close - self.target_close).days
        return days if self.all_done else max(0, days)

    def of(self, item_id):
        return self.items.get(item_id)

    def milestones(self):
        return [p for p in self.items.values() if p.item.kind == MILESTONE]

    def tasks(self):
        return [p for p in self.items.values() if p.item.kind == TASK]

    @property
    def cause(self):
        """The late item at the head of the critical path, when there is one."""
        if self.critical_path:
            head = self.items[self.critical_path[0]]
            if head.overdue:
                return head
        return None

    def consequences(self):
        """What each late open item does to its milestone and the close, by id."""
        return _consequences(self)


def _days(n):
    return f"{n} day" if n == 1 else f"{n} days"


def _day(d):
    return f"{d.day} {d.strftime('%b')}"


def edges(items):
    """The waits-for edges between the items (see the module's docstring)."""
    by_id = {i.id: i for i in items}
    tasks_of = defaultdict(list)
    for item in items:
        if item.kind == TASK and item.milestone_id in by_id:
            tasks_of[item.milestone_id].append(item)
    out = []
    for m in items:
        if m.kind != MILESTONE:
            continue
        deps = [by_id[d] for d in m.depends_on if d in by_id and d != m.id]
        for d in deps:
            out.append(Edge(d.id, m.id, max(0, _gap(d.date, m.date))))
        for t in tasks_of[m.id]:
            if t.date is None:
                continue
            out.append(Edge(t.id, m.id, max(0, _gap(t.date, m.date))))
            for d in deps:
                if d.date is not None:
                    # The task keeps its planned distance to what its milestone waits for.
                    out.append(Edge(d.id, t.id, _gap(d.date, t.date)))
    return out


def _gap(before, after):
    if before is None or after is None:
        return 0
    return (after - before).days


def _order(ids, preds):
    """The ids so that what is waited for comes first (Kahn); the members of a cycle,
    which cannot exist in good data, follow in their plan order."""
    indegree = {i: 0 for i in ids}
    succs = defaultdict(list)
    for after, before_list in preds.items():
        for e in before_list:
            indegree[after] += 1
            succs[e.before].append(after)
    ready = [i for i in ids if indegree[i] == 0]
    out = []
    seen = set()
    while ready:
        nxt = []
        for i in ready:
            out.append(i)
            seen.add(i)
            for s in succs[i]:
                indegree[s] -= 1
                if indegree[s] == 0:
                    nxt.append(s)
        ready = nxt
    out.extend(i for i in ids if i not in seen)
    return out


def project(items, *, today, target_close=None):
    """The ``Schedule`` of ``items`` on ``today`` (the room's date)."""
    items = list(items)
    by_id = {i.id: i for i in items}
    all_edges = edges(items)
    preds = defaultdict(list)
    for e in all_edges:
        preds[e.after].append(e)
    schedule = Schedule(today=today, target_close=target_close)
    projections = _forward(items, by_id, preds, today)
    schedule.items = {i.id: projections[i.id] for i in items}
    schedule.all_done = bool(items) and all(i.done for i in items)
    ends = [p for p in schedule.milestones() if p.projected is not None]
    if not ends:
        return schedule
    end = max(ends, key=lambda p: (p.projected, p.item.order))
    schedule.projected_close = end.projected
    schedule.critical_path = _path(schedule, end)
    for i in schedule.critical_path:
        schedule.items[i].critical = True
    _slack(schedule, all_edges)
    return schedule


def _forward(items, by_id, preds, today, *, on_time=None):
    """Projected dates, in dependency order. ``on_time``: an id treated as on time (its
    own date, not today) — for asking what that item's lateness does."""
    order = _order([i.id for i in items], preds)
    out = {}
    for i in order:
        item = by_id[i]
        if item.done:
            finished = item.completed or item.date or today
            out[i] = Projection(item, finished)
            continue
        projected = item.date
        late = 0
        if projected is not None and projected < today and i != on_time:
            late = (today - projected).days
            projected = today
        candidates = []
        for e in preds.get(i, ()):
            before = out.get(e.before)
            if before is None or before.projected is None:
                continue  # a cycle's back edge, or nothing to go by
            day = before.projected + datetime.timedelta(days=e.gap)
            candidates.append((day, _rank(before, by_id[e.before]), e.before))
        driver = None
        if candidates:
            latest = max(c[0] for c in candidates)
            # Of the things that set that date, the one that waited longest: a delayed
            # milestone, then a delayed task, then an on-time milestone.
            day, rank, which = max((c for c in candidates if c[0] == latest), key=lambda c: c[1])
            if projected is None or day > projected:
                projected, driver = day, which
            elif day == projected and rank > 0 and not (late and rank < 2):
                driver = which
        out[i] = Projection(item, projected, late_days=late, driver=driver)
    return out


def _rank(projection, item):
    delayed = projection.delay_days > 0
    if item.kind == MILESTONE:
        return 3 if delayed else 1
    return 2 if delayed else 0


def _path(schedule, end):
    path = []
    seen = set()
    current = end
    while current is not None and current.item.id not in seen:
        path.append(current.item.id)
        seen.add(current.item.id)
        current = schedule.items.get(current.driver) if current.driver is not None else None
    path.reverse()
    return path


def _slack(schedule, all_edges):
    """Slack of each milestone: days it can slip before the projected close moves (a
    backward pass over milestone-to-milestone and task-to-milestone edges)."""
    succs = defaultdict(list)
    for e in all_edges:
        succs[e.before].append(e)
    latest = {}
    order = _order(list(schedule.items), _preds_of(all_edges))
    for i in reversed(order):
        p = schedule.items[i]
        if p.projected is None:
            continue
        bound = schedule.projected_close
        for e in succs.get(i, ()):
            after = latest.get(e.after)
            if after is not None:
                bound = min(bound, after - datetime.timedelta(days=e.gap))
        latest[i] = bound
        if p.item.kind == MILESTONE:
            p.slack_days = 0 if p.item.done else max(0, (bound - p.projected).days)


def _preds_of(all_edges):
    preds = defaultdict(list)
    for e in all_edges:
        preds[e.after].append(e)
    return preds


def _consequences(schedule):
    items = [p.item for p in schedule.items.values()]
    by_id = {i.id: i for i in items}
    all_edges = edges(items)
    preds = _preds_of(all_edges)
    succs = defaultdict(list)
    for e in all_edges:
        succs[e.before].append(e.after)
    out = {}
    for i, p in schedule.items.items():
        if not p.overdue:
            continue
        without = _forward(items, by_id, preds, schedule.today, on_time=i)
        close_without = max(
            (q.projected for q in without.values() if q.item.kind == MILESTONE and q.projected),
            default=None,
        )
        consequence = Consequence(p.item, p.late_days, projected_close=schedule.projected_close)
        if close_without and schedule.projected_close:
            consequence.close_days = max(0, (schedule.projected_close - close_without).days)
        # The first milestone downstream that this item moves.
        for m in _downstream_milestones(i, succs, by_id):
            moved = (schedule.items[m].projected - without[m].projected).days
            if moved > 0:
                consequence.pushes, consequence.pushes_days = by_id[m], moved
                break
        out[i] = consequence
    return out


def _downstream_milestones(start, succs, by_id):
    """Milestones reachable from ``start``, nearest first."""
    seen = {start}
    frontier = [start]
    while frontier:
        nxt = []
        for i in frontier:
            for s in succs.get(i, ()):
                if s not in seen:
                    seen.add(s)
                    nxt.append(s)
                    if by_id[s].kind == MILESTONE:
                        yield s
        frontier = nxt


def topological_order(items):
    """A plain topological sort of the same graph (the benchmark's baseline)."""
    return _order([i.id for i in items], _preds_of(edges(items)))


# --- problems -------------------------------------------------------------------------


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
                        fix=f"Move to {_day(fix_date)}, after “{late_dep.title}”",
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
                    f"“{t.title}” is due after its milestone “{m.title}” ({_day(m.date)}).",
                    fix=f"Move to {_day(m.date)}",
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
                    f"“{i.title}” is dated after the target close ({_day(target_close)}).",
                    fix=f"Move to {_day(target_close)}",
                    fix_date=target_close,
                )
            )
        if i.created and i.date < i.created:
            found.append(
                Problem(
                    "in_past",
                    i.id,
                    f"“{i.title}” was already in the past when it was planned ({_day(i.date)}).",
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
