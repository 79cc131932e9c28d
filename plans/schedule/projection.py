"""The projection of a plan: ``project`` answers with its ``Schedule`` (each item's
projected date, the projected close, the critical path, each milestone's slack), and
``Schedule.consequences`` says what each late item does to its milestone and the close."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass, field

from .graph import _order, _Plan
from .values import MILESTONE, TASK, Consequence, Projection


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
