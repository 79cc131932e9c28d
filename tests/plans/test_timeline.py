"""The timeline's drawing (plans/timeline.py): coordinates from plain schedule items."""

import datetime

from plans import schedule
from plans.schedule import MILESTONE, TASK, Item
from plans.timeline import CHART_X0, CHART_X1, timeline

D = datetime.date
TODAY = D(2026, 11, 20)
CLOSE = D(2027, 1, 15)


def ms(mid, date, *deps, done=False, completed=None, order=0):
    return Item(
        id=mid,
        kind=MILESTONE,
        title=mid.title(),
        date=date,
        depends_on=tuple(deps),
        done=done,
        completed=completed,
        order=order,
    )


def task(tid, milestone, date, *, done=False):
    return Item(id=tid, kind=TASK, title=tid, date=date, milestone_id=milestone, done=done)


def chain():
    """Tech -> security -> legal -> contract, across the turn of the year."""
    return [
        ms("tech", D(2026, 12, 4), order=0),
        ms("security", D(2026, 12, 18), "tech", order=1),
        ms("legal", D(2027, 1, 8), "security", order=2),
        ms("contract", D(2027, 1, 15), "legal", order=3),
        task("evaluate", "tech", D(2026, 11, 27)),
        task("questionnaire", "security", D(2026, 12, 11)),
        task("redlines", "legal", D(2027, 1, 6)),
    ]


def draw(items, *, today=TODAY, target=CLOSE, **kwargs):
    plan = schedule.project(items, today=today, target_close=target)
    milestones = [i for i in items if i.kind == MILESTONE]
    return plan, timeline(plan, milestones, **kwargs)


def test_month_ticks_cross_the_year_with_the_year_at_the_first_tick_and_january():
    _, tl = draw(chain())
    labels = [t.label for t in tl.ticks]
    assert labels == ["Dec 2026", "Jan 2027"]
    assert tl.start <= TODAY and tl.end > D(2027, 1, 15)
    xs = [t.x for t in tl.ticks]
    assert xs == sorted(xs) and all(CHART_X0 <= x <= CHART_X1 for x in xs)


def test_a_long_plan_gets_fewer_ticks_and_each_new_year_is_named():
    items = [ms("start", D(2026, 12, 1)), ms("end", D(2028, 6, 1), "start", order=1)]
    _, tl = draw(items, target=D(2028, 6, 1))
    assert 2 <= len(tl.ticks) <= 9
    assert [t.label for t in tl.ticks] == [
        "Dec 2026", "Mar 2027", "Jun", "Sep", "Dec", "Mar 2028", "Jun",
    ]  # fmt: skip


def test_bars_run_from_what_they_wait_for_to_their_date_in_plan_order():
    _, tl = draw(chain())
    bars = tl.bars
    assert [b.id for b in bars] == ["tech", "security", "legal", "contract"]
    assert [b.row for b in bars] == [0, 1, 2, 3]
    assert [b.y for b in bars] == sorted(b.y for b in bars)
    for bar in bars:
        assert CHART_X0 <= bar.x0 <= bar.x1 <= bar.x2 <= CHART_X1
    # Without dependencies: from its earliest task; with: from the end of what it waits for.
    assert bars[0].start == D(2026, 11, 27)
    for before, after in zip(bars, bars[1:], strict=False):
        assert after.start == before.projected and after.x0 == before.x2
    assert [b.x1 for b in bars] == sorted(b.x1 for b in bars)


def test_a_milestone_without_tasks_or_dependencies_gets_a_short_run_up():
    _, tl = draw([ms("kickoff", D(2026, 12, 4))], target=D(2026, 12, 4))
    (bar,) = tl.bars
    assert bar.start == D(2026, 11, 27) and bar.x0 < bar.x1


def test_the_projected_extension_appears_only_when_late():
    _, on_time = draw(chain())
    assert not any(b.extended for b in on_time.bars)
    assert all(b.delay_days == 0 for b in on_time.bars)

    # On 10 Dec "evaluate" (27 Nov) is 13 days late, and so is its milestone (4 Dec),
    # which keeps its planned week after it: projected 17 Dec.
    _, tl = draw(chain(), today=D(2026, 12, 10))
    tech = tl.bars[0]
    assert tech.late and tech.extended and tech.x2 > tech.x1
    assert tech.projected == D(2026, 12, 17) and tech.delay_days == 13
    pushed = [b for b in tl.bars if b.extended]
    assert [b.id for b in pushed] == ["tech", "security", "legal", "contract"]
    assert all(b.ext_width == b.x2 - b.x1 > 0 for b in pushed)


def test_critical_flag_and_who_sets_the_close():
    items = [
        ms("tech", D(2026, 12, 4), order=0),
        ms("side", D(2026, 12, 10), order=1),  # nothing waits for it
        ms("contract", D(2027, 1, 15), "tech", order=2),
    ]
    plan, tl = draw(items)
    critical = {b.id for b in tl.bars if b.critical}
    assert critical == {i for i in plan.critical_path if plan.items[i].item.kind == MILESTONE}
    assert "contract" in critical and "side" not in critical
    assert [b.id for b in tl.bars if b.closes] == ["contract"]
    contract = next(i for i in tl.items if i.title == "Contract")
    assert "on the critical path" in contract.facts and "sets the close date" in contract.facts
    side = next(i for i in tl.items if i.title == "Side")
    assert not side.critical and "on the critical path" not in side.facts


def test_target_and_projected_close_markers_and_today():
    late_today = D(2026, 12, 1)  # "evaluate" is 4 days late; the close moves 4 days
    plan, tl = draw(chain(), today=late_today)
    assert plan.projected_close == D(2027, 1, 19)
    kinds = [m.kind for m in tl.markers]
    assert kinds == ["today", "target", "projected"]
    today, target, projected = tl.markers
    assert today.date == late_today and target.date == D(2027, 1, 15)
    assert projected.date == D(2027, 1, 19) and projected.x > target.x > today.x
    assert target.text == "Target close: 15 Jan"
    assert projected.text == "Projected close: 19 Jan (4 days later)"
    assert "projected close 19 Jan" in tl.summary and "target close 15 Jan" in tl.summary
    assert tl.summary.startswith("Timeline: 4 milestones from 4 Dec to 15 Jan")
    # The labels sit on their own lines under the rows.
    assert [m.y for m in tl.markers] == sorted({m.y for m in tl.markers})
    assert all(m.y > tl.chart_bottom for m in tl.markers) and tl.height > tl.markers[-1].y


def test_buyers_read_the_date_we_agreed_on_and_where_were_heading():
    _, tl = draw(chain(), today=D(2026, 12, 1), buyer=True)
    texts = [m.text for m in tl.markers]
    assert texts[1] == "The date we agreed on: 15 Jan"
    assert texts[2] == "Where we're heading: 19 Jan (4 days later)"
    assert "where we're heading 19 Jan" in tl.summary
    assert "projected" not in tl.summary and "target" not in tl.summary
    tech = tl.items[0]
    assert tech.facts[:2] == ["4 Dec", "where we're heading 8 Dec (4 days later)"]
    assert not any("projected" in f or "target" in f for i in tl.items for f in i.facts)


def test_list_says_the_projected_date_only_when_it_differs():
    _, on_time = draw(chain())
    assert on_time.items[0].facts == ["target 4 Dec", "on the critical path"]
    assert not any(f.startswith("projected") for i in on_time.items for f in i.facts)
    # Pushed by its late task, not late itself: its own date has not passed yet.
    _, pushed = draw(chain(), today=D(2026, 12, 1))
    tech = pushed.items[0]
    assert tech.facts == ["target 4 Dec", "projected 8 Dec (4 days later)", "on the critical path"]
    assert not tech.late
    # Its own date passed with work open: late.
    _, late = draw(chain(), today=D(2026, 12, 10))
    assert late.items[0].late and late.bars[0].late


def test_dependency_connectors_join_the_bars():
    _, tl = draw(chain())
    assert len(tl.connectors) == 3
    for before, path in zip(tl.bars, tl.connectors, strict=False):
        assert path.startswith(f"M{before.x2} {before.y + 16}V")  # from its bar's end


def test_a_buyers_bar_starts_from_visible_tasks_only():
    items = [ms("tech", D(2026, 12, 4)), task("hidden", "tech", D(2026, 11, 22))]
    plan = schedule.project(items, today=TODAY, target_close=D(2026, 12, 4))
    mine = timeline(plan, [items[0]], task_ids=set(), buyer=True)
    everyone = timeline(plan, [items[0]])
    assert everyone.bars[0].start == D(2026, 11, 22)
    assert mine.bars[0].start == D(2026, 11, 27)  # the default run-up, not the hidden task


def test_a_plan_without_dates_draws_nothing():
    items = [ms("tech", None), ms("contract", None, "tech", order=1)]
    plan = schedule.project(items, today=TODAY, target_close=D(2027, 1, 15))
    assert timeline(plan, items) is None
    assert timeline(None, []) is None
    empty = schedule.project([], today=TODAY, target_close=D(2027, 1, 15))
    assert timeline(empty, []) is None


def test_undated_milestones_are_listed_but_not_drawn():
    items = [ms("tech", D(2026, 12, 4)), ms("later", None, order=1)]
    _, tl = draw(items, target=D(2026, 12, 4))
    assert [b.id for b in tl.bars] == ["tech"]
    assert [i.title for i in tl.items] == ["Tech", "Later"]
    assert tl.items[1].facts[0] == "no date yet"


def test_done_milestones_say_so():
    items = [
        ms("tech", D(2026, 12, 4), done=True, completed=D(2026, 11, 18)),
        ms("contract", D(2027, 1, 15), "tech", order=1),
    ]
    _, tl = draw(items)
    assert tl.bars[0].done and not tl.bars[0].extended
    assert "done 18 Nov" in tl.items[0].facts


def test_rows_may_be_model_like_objects_with_pk_and_step():
    class Row:
        def __init__(self, pk, title, step):
            self.pk, self.title, self.step = pk, title, step

    plan = schedule.project(chain(), today=TODAY, target_close=D(2027, 1, 15))
    tl = timeline(plan, [Row("legal", "Legal review", "3"), Row("tech", "Tech", "1")])
    assert [(b.step, b.label) for b in tl.bars] == [("3", "3. Legal review"), ("1", "1. Tech")]
