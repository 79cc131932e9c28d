"""The plan's timeline: what the room pages draw, as coordinates (no database access).

``timeline(schedule, milestones, room=room)`` lays the milestones of a
``plans.schedule.Schedule`` out on one horizontal date axis, in the units of the SVG's
viewBox (``WIDTH`` wide): month ticks, one bar per milestone (from what it waits for to
its own date, then the stretch to its projected date when that is later), the
dependencies between the bars, today, the target close and the projected close. Each
milestone also gets the sentences of the text list that goes with the drawing, which is
what screen readers and phones read. Sellers read "target" and "projected"; buyers read
"the date we agreed on" and "where we're heading".
"""

from __future__ import annotations

import datetime
import math
from dataclasses import dataclass, field

from .schedule import MILESTONE, TASK, day_label, days_label

WIDTH = 1000
LABEL_X = 8  # milestone titles, left of the chart
CHART_X0 = 290  # the chart's date axis runs from here...
CHART_X1 = 980  # ...to here
TOP = 24  # below the month labels
ROW = 30  # one milestone per row
BAR_H = 16
LINE = 17  # the marker labels' lines, under the rows
TITLE_CHARS = 36
DEFAULT_LEAD_DAYS = 7  # a milestone waiting for nothing, with no dated task: its run-up
MAX_TICKS = 9


@dataclass
class Tick:
    x: int
    label: str


@dataclass
class Bar:
    id: object
    step: str
    title: str
    label: str  # the title as drawn (shortened)
    row: int
    y: int  # the bar's top
    start: datetime.date  # what it waits for
    planned: datetime.date
    projected: datetime.date
    x0: int
    x1: int  # its own (planned) date
    x2: int  # its projected date (== x1 unless later than planned)
    delay_days: int = 0
    late: bool = False  # its own date has passed with work open
    done: bool = False
    critical: bool = False
    closes: bool = False  # the last milestone of the critical path: it sets the close
    slack_days: int | None = None

    @property
    def cy(self):
        return self.y + BAR_H // 2

    @property
    def text_y(self):
        return self.y + BAR_H - 3

    @property
    def width(self):
        return max(3, self.x1 - self.x0)

    @property
    def extended(self):
        return self.x2 > self.x1

    @property
    def ext_width(self):
        return self.x2 - self.x1

    @property
    def point(self):
        """A diamond at the planned date (SVG path)."""
        return f"M{self.x1} {self.cy - 7}l7 7-7 7-7-7z"

    @property
    def delay_anchor_end(self):
        """The "+N days" text goes left of the bar when there is no room right of it."""
        return self.x2 + 70 > WIDTH

    @property
    def delay_x(self):
        return self.x0 - 6 if self.delay_anchor_end else self.x2 + 6


@dataclass
class Marker:
    kind: str  # today | target | projected
    x: int
    date: datetime.date
    text: str
    y: int = 0  # the label's baseline

    @property
    def anchor_end(self):
        return self.x > (CHART_X0 + CHART_X1) / 2

    @property
    def text_x(self):
        return self.x - 4 if self.anchor_end else self.x + 4


@dataclass
class Line:
    """One milestone in the text list."""

    step: str
    title: str
    facts: list
    late: bool = False
    done: bool = False
    critical: bool = False


@dataclass
class Timeline:
    start: datetime.date
    end: datetime.date
    height: int
    chart_bottom: int
    summary: str  # the SVG's aria-label
    ticks: list = field(default_factory=list)
    bars: list = field(default_factory=list)
    connectors: list = field(default_factory=list)  # SVG paths
    markers: list = field(default_factory=list)
    items: list = field(default_factory=list)  # the text list, every milestone
    buyer: bool = False

    @property
    def key(self):
        """The legend, left of the marker labels: (baseline, kind, text)."""
        if self.buyer:  # the list beside it says all of this in the buyer's words
            return []
        kinds = [("plan", "Planned"), ("late", "Later than planned"), ("crit", "Critical path")]
        return [
            {"y": self.chart_bottom + n * LINE, "kind": kind, "text": text}
            for n, (kind, text) in enumerate(kinds, start=1)
        ]

    @property
    def width(self):
        return WIDTH


def _row_id(row):
    pk = getattr(row, "pk", None)
    return pk if pk is not None else row.id


def _shorten(text, limit=TITLE_CHARS):
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def timeline(schedule, milestones, *, room=None, buyer=False, task_ids=None):
    """What the timeline draws for ``milestones`` (rows with ``pk`` or ``id``, ``title``
    and optionally ``step``, in plan order) of ``schedule``; None when nothing has a
    date. ``room`` supplies the target close when the schedule has none. ``task_ids``:
    the tasks a bar may start from (a buyer's visible ones); all when None. Tasks are
    never drawn."""
    if schedule is None:
        return None
    target = schedule.target_close or getattr(room, "target_close_date", None)
    today = schedule.today
    projected_close = schedule.projected_close
    closing = schedule.critical_path[-1] if schedule.critical_path else None
    # A bar starts at the earliest task date of its milestone when it waits for nothing.
    first_task = {}
    for p in schedule.items.values():
        item = p.item
        if item.kind != TASK or item.date is None:
            continue
        if task_ids is not None and item.id not in task_ids:
            continue
        known = first_task.get(item.milestone_id)
        if known is None or item.date < known:
            first_task[item.milestone_id] = item.date

    rows = []
    for index, row in enumerate(milestones, start=1):
        p = schedule.of(_row_id(row))
        if p is None or p.item.kind != MILESTONE:
            continue
        rows.append((str(getattr(row, "step", "") or index), row.title, p))

    placed = []
    for step, title, p in rows:
        end = p.projected or p.item.date
        if end is None:
            continue
        planned = p.item.date or end
        waits = [
            schedule.items[d].projected
            for d in p.item.depends_on
            if d in schedule.items and schedule.items[d].projected is not None
        ]
        if waits:
            start = max(waits)
        elif p.item.id in first_task:
            start = first_task[p.item.id]
        else:
            start = planned - datetime.timedelta(days=DEFAULT_LEAD_DAYS)
        placed.append((step, title, p, min(start, planned), planned, max(end, planned)))
    if not placed:
        return None

    dates = [today]
    for _step, _title, _p, start, planned, end in placed:
        dates += [start, planned, end]
    for d in (target, projected_close):
        if d is not None:
            dates.append(d)
    first, last = min(dates), max(dates)
    span = max((last - first).days, 1)
    first -= datetime.timedelta(days=max(2, round(span * 0.03)))
    last += datetime.timedelta(days=max(4, round(span * 0.1)))
    days = (last - first).days

    def x(day):
        return round(CHART_X0 + (CHART_X1 - CHART_X0) * (day - first).days / days)

    bars = []
    for row_index, (step, title, p, start, planned, end) in enumerate(placed):
        bars.append(
            Bar(
                id=p.item.id,
                step=step,
                title=title,
                label=_shorten(f"{step}. {title}"),
                row=row_index,
                y=TOP + row_index * ROW + (ROW - BAR_H) // 2,
                start=start,
                planned=planned,
                projected=end,
                x0=x(start),
                x1=x(planned),
                x2=x(end),
                delay_days=(end - planned).days,
                late=p.late_days > 0,
                done=p.item.done,
                critical=p.critical,
                closes=p.item.id == closing,
                slack_days=p.slack_days,
            )
        )
    chart_bottom = TOP + len(bars) * ROW + 4
    by_id = {b.id: b for b in bars}
    connectors = []
    for bar in bars:
        for dep_id in schedule.items[bar.id].item.depends_on:
            dep = by_id.get(dep_id)
            if dep is not None and dep is not bar:
                connectors.append(_connector(dep, bar))

    markers = [Marker("today", x(today), today, f"Today {day_label(today)}")]
    if target is not None:
        text = "The date we agreed on" if buyer else "Target close"
        markers.append(Marker("target", x(target), target, f"{text}: {day_label(target)}"))
    if projected_close is not None:
        text = "Where we're heading" if buyer else "Projected close"
        note = ""
        if target is not None and projected_close > target:
            note = f" ({days_label((projected_close - target).days)} later)"
        elif target is not None and projected_close <= target:
            note = " (on time)"
        markers.append(
            Marker(
                "projected",
                x(projected_close),
                projected_close,
                f"{text}: {day_label(projected_close)}{note}",
            )
        )
    for n, m in enumerate(markers, start=1):
        m.y = chart_bottom + n * LINE

    return Timeline(
        start=first,
        end=last,
        height=chart_bottom + max(3, len(markers)) * LINE + 8,
        chart_bottom=chart_bottom,
        summary=_summary(placed, target, projected_close, buyer=buyer),
        ticks=month_ticks(first, last, x),
        bars=bars,
        connectors=connectors,
        markers=markers,
        items=[_item(step, title, p, closing, buyer=buyer) for step, title, p in rows],
        buyer=buyer,
    )


def month_ticks(first, last, x):
    """A tick at the first of each month in [first, last]: "Nov 2026", "Dec", "Jan 2027"…
    (the year at the first tick and where it changes); every second or third month
    when the range is long."""
    months = []
    day = first.replace(day=1)
    if day < first:
        day = _next_month(day)
    while day <= last:
        months.append(day)
        day = _next_month(day)
    step = max(1, math.ceil(len(months) / MAX_TICKS))
    ticks = []
    year = None
    for day in months[::step]:
        label = day.strftime("%b")
        if day.year != year:  # the first tick, and the first of each new year
            label += f" {day.year}"
            year = day.year
        ticks.append(Tick(x(day), label))
    return ticks


def _next_month(day):
    return (
        day.replace(year=day.year + 1, month=1)
        if day.month == 12
        else day.replace(month=day.month + 1)
    )


def _connector(before, after):
    """From the end of ``before``'s bar to the start of ``after``'s (SVG path)."""
    down = after.row > before.row
    y_from = before.y + BAR_H if down else before.y
    if after.x0 > before.x2 + 6:
        return f"M{before.x2} {y_from}V{after.cy}H{after.x0 - 2}"
    y_to = after.y - 2 if down else after.y + BAR_H + 2
    return f"M{before.x2} {y_from}V{y_to}"


def _summary(placed, target, projected_close, *, buyer):
    planned = [p[4] for p in placed]
    n = len(placed)
    text = f"Timeline: {n} milestone{'s' if n != 1 else ''}"
    first, last = min(planned), max(planned)
    text += (
        f" on {day_label(first)}"
        if first == last
        else f" from {day_label(first)} to {day_label(last)}"
    )
    if projected_close is not None:
        label = "where we're heading" if buyer else "projected close"
        text += f"; {label} {day_label(projected_close)}"
    if target is not None:
        label = "the date we agreed on" if buyer else "target close"
        text += f"; {label} {day_label(target)}"
    return text


def _item(step, title, p, closing, *, buyer):
    """The text list's line for one milestone."""
    item = p.item
    facts = []
    if item.date is None:
        facts.append("no date yet")
    else:
        facts.append(day_label(item.date) if buyer else f"target {day_label(item.date)}")
    delay = p.delay_days
    if p.projected is not None and (item.date is None or p.projected != item.date):
        text = "where we're heading" if buyer else "projected"
        moved = f" ({days_label(delay)} later)" if delay > 0 else ""
        if item.done:
            text = "done"
            moved = ""
        facts.append(f"{text} {day_label(p.projected)}{moved}")
    elif item.done:
        facts.append("done")
    if p.critical:
        facts.append("on the critical path")
    if item.id == closing:
        facts.append("sets the close date")
    elif not p.critical and not item.done and p.slack_days:
        facts.append(
            f"{days_label(p.slack_days)} to spare"
            if buyer
            else f"{days_label(p.slack_days)} of slack"
        )
    return Line(
        step=step,
        title=title,
        facts=facts,
        late=p.late_days > 0,
        done=item.done,
        critical=p.critical,
    )
