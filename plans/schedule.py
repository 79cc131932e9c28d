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


def days_label(n):
    """ "1 day", "5 days"."""
    return f"{n} day" if n == 1 else f"{n} days"


def day_label(d):
    """ "24 Jan": how dates read in the schedule's sentences."""
    return f"{d.day} {d.strftime('%b')}"


def edges(items):
    """The waits-for edges between the items (see the module's docstring)."""
    plan = _Plan(list(items))
    return [Edge(plan.items[b].id, plan.items[a].id, gap) for b, a, gap in plan.links]


class _Plan:
    """The items as the passes over the graph see them: by position. ``keys[k]`` stands
    for the id of item ``k`` (the position of the last item with that id, the one a
    dict by id keeps), ``items[key]`` is that item, ``links`` are the waits-for edges as
    (before, after, gap) in the order ``edges`` gives them, and ``preds[after]`` the
    (before, gap) pairs into each. Ids are often UUIDs, which hash in Python: the
    passes look up small ints instead, a few times per edge."""

    __slots__ = ("items", "index", "keys", "links", "preds")

    def __init__(self, items):
        self.items = items
        index = {}
        for k, item in enumerate(items):
            index[item.id] = k
        self.index = index
        # With unique ids (a room's rows) each item is its own key.
        unique = len(index) == len(items)
        keys = self.keys = list(range(len(items))) if unique else [index[i.id] for i in items]
        tasks_of = defaultdict(list)  # a milestone's key -> the positions of its tasks
        for k, item in enumerate(items):
            if item.kind == TASK:
                m = index.get(item.milestone_id, -1)
                if m >= 0:
                    tasks_of[m].append(k)
        links = self.links = []
        preds = self.preds = defaultdict(list)

        def link(before, after, gap):
            links.append((before, after, gap))
            preds[after].append((before, gap))

        for k, m in enumerate(items):
            if m.kind != MILESTONE:
                continue
            km = keys[k]
            deps = []
            for d in m.depends_on:
                kd = index.get(d, -1)
                if kd >= 0 and kd != km:
                    deps.append(kd)
            for kd in deps:
                link(kd, km, max(0, _gap(items[kd].date, m.date)))
            for t in tasks_of[km]:
                task = items[t]
                if task.date is None:
                    continue
                kt = keys[t]
                link(kt, km, max(0, _gap(task.date, m.date)))
                for kd in deps:
                    dep = items[kd]
                    if dep.date is not None:
                        # The task keeps its planned distance to what its milestone waits for.
                        link(kd, kt, _gap(dep.date, task.date))


def _gap(before, after):
    if before is None or after is None:
        return 0
    return (after - before).days


def _order(keys, preds):
    """The keys (``_Plan`` positions) so that what is waited for comes first (Kahn); the
    members of a cycle, which cannot exist in good data, follow in their plan order."""
    size = max(keys, default=-1) + 1
    indegree = [0] * size
    succs = defaultdict(list)
    for after, before_list in preds.items():
        for before, _gap in before_list:
            indegree[after] += 1
            succs[before].append(after)
    ready = [i for i in keys if indegree[i] == 0]
    out = []
    seen = [False] * size
    while ready:
        nxt = []
        for i in ready:
            out.append(i)
            seen[i] = True
            for s in succs.get(i, ()):
                indegree[s] -= 1
                if indegree[s] == 0:
                    nxt.append(s)
        ready = nxt
    out.extend(i for i in keys if not seen[i])
    return out


def project(items, *, today, target_close=None):
    """The ``Schedule`` of ``items`` on ``today`` (the room's date)."""
    items = list(items)
    plan = _Plan(items)
    schedule = Schedule(today=today, target_close=target_close)
    order = _order(plan.keys, plan.preds)
    projections = _forward(plan, today, order)
    schedule.items = {i.id: projections[k] for i, k in zip(items, plan.keys, strict=True)}
    for p in schedule.items.values():
        if p.driver is not None:
            p.driver = items[p.driver].id
    schedule.all_done = bool(items) and all(i.done for i in items)
    ends = [p for p in schedule.milestones() if p.projected is not None]
    if not ends:
        return schedule
    end = max(ends, key=lambda p: (p.projected, p.item.order))
    schedule.projected_close = end.projected
    schedule.critical_path = _path(schedule, end)
    for i in schedule.critical_path:
        schedule.items[i].critical = True
    if len(plan.index) < len(items):  # the same id twice: each once, in first-seen order
        order = _order(list(dict.fromkeys(plan.keys)), plan.preds)
    _slack(plan, projections, schedule.projected_close, order)
    return schedule


def _forward(plan, today, order, *, on_time=None):
    """Projected dates by key (a list by ``_Plan`` position), in dependency ``order``;
    each ``driver`` is a key. ``on_time``: a key treated as on time (its own date, not
    today) — for asking what that item's lateness does."""
    items, preds = plan.items, plan.preds
    out = [None] * len(items)
    one_day = datetime.timedelta(days=1)
    for i in order:
        item = items[i]
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
        for b, gap in preds.get(i, ()):
            before = out[b]
            if before is None or before.projected is None:
                continue  # a cycle's back edge, or nothing to go by
            candidates.append((before.projected + gap * one_day, _rank(before, before.item), b))
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


def _slack(plan, projections, projected_close, order):
    """Slack of each milestone: days it can slip before the projected close moves (a
    backward pass over milestone-to-milestone and task-to-milestone edges)."""
    succs = defaultdict(list)
    for before, after, gap in plan.links:
        succs[before].append((after, gap))
    latest = {}
    one_day = datetime.timedelta(days=1)
    for i in reversed(order):
        p = projections[i]
        if p.projected is None:
            continue
        bound = projected_close
        for a, gap in succs.get(i, ()):
            after = latest.get(a)
            if after is not None:
                bound = min(bound, after - gap * one_day)
        latest[i] = bound
        if p.item.kind == MILESTONE:
            p.slack_days = 0 if p.item.done else max(0, (bound - p.projected).days)


def _consequences(schedule):
    projected = list(schedule.items.values())
    items = [p.item for p in projected]
    plan = _Plan(items)  # one id per item: keys are positions in ``projected``
    order = _order(plan.keys, plan.preds)  # the same for every late item
    succs = defaultdict(list)
    for before, after, _gap in plan.links:
        succs[before].append(after)
    out = {}
    for k, p in enumerate(projected):
        if not p.overdue:
            continue
        without = _forward(plan, schedule.today, order, on_time=k)
        close_without = max(
            (
                q.projected
                for q in without
                if q is not None and q.item.kind == MILESTONE and q.projected
            ),
            default=None,
        )
        consequence = Consequence(
            p.item,
            p.late_days,
            projected_close=schedule.projected_close,
            target_close=schedule.target_close,
        )
        if close_without and schedule.projected_close:
            consequence.close_days = max(0, (schedule.projected_close - close_without).days)
        # The first milestone downstream that this item moves.
        for m in _downstream_milestones(k, succs, items):
            moved = (projected[m].projected - without[m].projected).days
            if moved > 0:
                consequence.pushes, consequence.pushes_days = items[m], moved
                break
        out[p.item.id] = consequence
    return out


def _downstream_milestones(start, succs, items):
    """Keys of the milestones reachable from ``start``, nearest first."""
    seen = {start}
    frontier = [start]
    while frontier:
        nxt = []
        for i in frontier:
            for s in succs.get(i, ()):
                if s not in seen:
                    seen.add(s)
                    nxt.append(s)
                    if items[s].kind == MILESTONE:
                        yield s
        frontier = nxt


def topological_order(items):
    """A plain topological sort of the same graph (the benchmark's baseline): the ids,
    what is waited for first."""
    plan = _Plan(list(items))
    return [plan.items[k].id for k in _order(plan.keys, plan.preds)]


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
