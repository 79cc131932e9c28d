"""The schedule rule (plans/schedule/): pure functions over plain items."""

import datetime

import pytest

from plans import schedule
from plans.schedule import MILESTONE, TASK, Item

D = datetime.date
TODAY = D(2027, 1, 4)


def ms(mid, date, *deps, done=False, completed=None, order=0, **kw):
    return Item(
        id=mid,
        kind=MILESTONE,
        title=mid,
        date=date,
        depends_on=tuple(deps),
        done=done,
        completed=completed,
        order=order,
        condition=kw.pop("condition", "Sign-off email"),
        **kw,
    )


def task(tid, milestone, date, *, done=False, completed=None, **kw):
    return Item(
        id=tid,
        kind=TASK,
        title=tid,
        date=date,
        milestone_id=milestone,
        done=done,
        completed=completed,
        **kw,
    )


def chain():
    """Technical validation -> Security review -> Legal review -> Contract signed."""
    return [
        ms("tech", D(2027, 1, 15), order=0),
        ms("security", D(2027, 1, 29), "tech", order=1),
        ms("legal", D(2027, 2, 12), "security", order=2),
        ms("contract", D(2027, 2, 19), "legal", order=3),
        task("evaluate", "tech", D(2027, 1, 13)),
        task("questionnaire", "security", D(2027, 1, 22)),
        task("redlines", "legal", D(2027, 2, 10)),
        task("sign", "contract", D(2027, 2, 19)),
    ]


def test_a_plan_on_time_projects_its_own_dates_and_no_slip():
    result = schedule.project(chain(), today=TODAY, target_close=D(2027, 2, 19))
    assert result.projected_close == D(2027, 2, 19)
    assert result.slip_days == 0
    assert all(p.projected == p.item.date for p in result.items.values())
    # The chain of milestones sets the close; on-time tasks are not "the cause".
    assert result.critical_path == ["tech", "security", "legal", "contract"]
    assert result.cause is None
    assert result.consequences() == {}


def test_a_late_task_pushes_its_milestone_everything_after_it_and_the_close():
    items = chain()
    items[0] = ms("tech", D(2027, 1, 15), done=True, completed=D(2027, 1, 15))
    items[4] = task("evaluate", "tech", D(2027, 1, 13), done=True, completed=D(2027, 1, 13))
    today = D(2027, 1, 27)  # the questionnaire (due 22 Jan) is 5 days late
    result = schedule.project(items, today=today, target_close=D(2027, 2, 19))
    q = result.of("questionnaire")
    assert q.projected == today and q.late_days == 5 and q.overdue
    # Security keeps its 7-day gap after the questionnaire, legal its 14 days after it.
    assert result.of("security").projected == D(2027, 2, 3)
    assert result.of("legal").projected == D(2027, 2, 17)
    assert result.of("redlines").projected == D(2027, 2, 15)  # shifted with legal
    assert result.projected_close == D(2027, 2, 24)
    assert result.slip_days == 5
    assert result.critical_path == ["questionnaire", "security", "legal", "contract"]
    assert result.cause.item.id == "questionnaire"
    consequence = result.consequences()["questionnaire"]
    assert consequence.pushes.id == "security" and consequence.pushes_days == 5
    assert consequence.close_days == 5
    assert consequence.text == (
        "This pushes “security” by 5 days and the close to 24 Feb (target 19 Feb)."
    )


def test_a_diamond_waits_for_its_slower_branch_and_the_other_has_slack():
    items = [
        ms("tech", D(2027, 1, 15), done=True, completed=D(2027, 1, 15)),
        ms("security", D(2027, 1, 29), "tech", order=1),
        ms("business", D(2027, 2, 5), "tech", order=2),
        ms("legal", D(2027, 2, 12), "security", "business", order=3),
        task("soc2", "security", D(2027, 1, 25)),
        task("deck", "business", D(2027, 2, 1)),
    ]
    # Every milestone keeps its planned gap, so on plan nothing has slack ...
    on_plan = schedule.project(items, today=D(2027, 1, 20), target_close=D(2027, 2, 12))
    assert {p.slack_days for p in on_plan.milestones()} == {0}
    # ... until one branch is late: soc2 (due 25 Jan) is 5 days late on 30 Jan, security
    # and legal move 5 days, and business may now slip 5 days without moving the close.
    result = schedule.project(items, today=D(2027, 1, 30), target_close=D(2027, 2, 12))
    assert result.projected_close == D(2027, 2, 17) and result.slip_days == 5
    assert result.of("security").slack_days == 0
    assert result.of("business").slack_days == 5
    assert result.critical_path == ["soc2", "security", "legal"]
    assert not result.of("business").critical


def test_a_late_branch_with_slack_moves_its_milestone_but_not_the_close():
    items = [
        ms("pilot", D(2027, 1, 25)),  # a branch nothing waits for
        ms("contract", D(2027, 2, 12), order=1),
        task("invite", "pilot", D(2027, 1, 18)),
        task("sign", "contract", D(2027, 2, 12)),
    ]
    today = D(2027, 1, 21)  # invite 3 days late: the pilot slips 3 days, of its 18 of slack
    result = schedule.project(items, today=today, target_close=D(2027, 2, 12))
    assert result.of("pilot").projected == D(2027, 1, 28)
    assert result.of("pilot").slack_days == 15
    assert result.projected_close == D(2027, 2, 12) and result.slip_days == 0
    consequence = result.consequences()["invite"]
    assert consequence.pushes.id == "pilot" and consequence.pushes_days == 3
    assert consequence.close_days == 0
    assert (
        consequence.text == "This pushes “pilot” by 3 days; the close date of 12 Feb still holds."
    )


def test_parallel_branches_end_at_the_latest_milestone():
    items = [
        ms("a", D(2027, 1, 20)),
        ms("b", D(2027, 2, 1), order=1),
        task("a1", "a", D(2027, 1, 18)),
        task("b1", "b", D(2027, 1, 30)),
    ]
    result = schedule.project(items, today=D(2027, 1, 10), target_close=D(2027, 2, 1))
    assert result.projected_close == D(2027, 2, 1)
    assert result.critical_path == ["b"]
    assert result.of("a").slack_days == 12


def test_done_items_finish_when_they_were_completed():
    items = chain()
    items[4] = task("evaluate", "tech", D(2027, 1, 13), done=True, completed=D(2027, 1, 20))
    items[0] = ms("tech", D(2027, 1, 15), done=True, completed=D(2027, 1, 21))
    result = schedule.project(items, today=D(2027, 1, 22), target_close=D(2027, 2, 19))
    assert result.of("evaluate").projected == D(2027, 1, 20)
    assert result.of("tech").projected == D(2027, 1, 21)
    # Tech finished 6 days late: security keeps its 14 days after it.
    assert result.of("security").projected == D(2027, 2, 4)
    assert result.projected_close == D(2027, 2, 25) and result.slip_days == 6
    assert result.critical_path[0] == "tech"  # done: the chain starts there


def test_slip_is_never_early_unless_everything_is_done():
    items = [ms("only", D(2027, 1, 10)), task("t", "only", D(2027, 1, 8))]
    open_plan = schedule.project(items, today=D(2027, 1, 1), target_close=D(2027, 1, 20))
    assert open_plan.slip_days == 0
    done = [
        ms("only", D(2027, 1, 10), done=True, completed=D(2027, 1, 5)),
        task("t", "only", D(2027, 1, 8), done=True, completed=D(2027, 1, 4)),
    ]
    finished = schedule.project(done, today=D(2027, 1, 6), target_close=D(2027, 1, 20))
    assert finished.all_done and finished.slip_days == -15


def test_an_open_milestone_whose_date_passed_finishes_today_at_the_earliest():
    items = [ms("m", D(2027, 1, 1))]
    result = schedule.project(items, today=D(2027, 1, 4), target_close=D(2027, 1, 1))
    assert result.of("m").projected == D(2027, 1, 4)
    assert result.slip_days == 3
    assert result.cause.item.id == "m"


def test_undated_items_do_not_break_the_projection():
    items = [
        ms("m", None),
        ms("n", D(2027, 2, 1), "m", order=1),
        task("t", "m", None),
        task("u", "n", D(2027, 1, 25)),
    ]
    result = schedule.project(items, today=D(2027, 1, 4), target_close=D(2027, 2, 1))
    assert result.of("m").projected is None
    assert result.projected_close == D(2027, 2, 1)
    empty = schedule.project([], today=D(2027, 1, 4), target_close=D(2027, 2, 1))
    assert empty.projected_close is None and empty.slip_days == 0


def test_cycles_in_bad_data_still_terminate():
    items = [
        ms("a", D(2027, 1, 10), "c"),
        ms("b", D(2027, 1, 20), "a", order=1),
        ms("c", D(2027, 1, 30), "b", order=2),
        ms("self", D(2027, 1, 5), "self", order=3),
    ]
    result = schedule.project(items, today=D(2027, 1, 1), target_close=D(2027, 1, 30))
    assert result.projected_close == D(2027, 1, 30)
    assert len(result.critical_path) == len(set(result.critical_path))
    assert set(schedule.topological_order(items)) == {"a", "b", "c", "self"}


def test_the_room_date_decides_what_is_late_at_midnight():
    """Due on the 4th: still on time on the 4th in the room's timezone, late on the 5th."""
    items = [ms("m", D(2027, 1, 10)), task("t", "m", D(2027, 1, 4))]
    on_the_day = schedule.project(items, today=D(2027, 1, 4), target_close=D(2027, 1, 10))
    assert not on_the_day.of("t").overdue
    next_day = schedule.project(items, today=D(2027, 1, 5), target_close=D(2027, 1, 10))
    assert next_day.of("t").late_days == 1
    assert next_day.slip_days == 1  # the milestone keeps its 6 days after the task


@pytest.mark.django_db
def test_the_room_timezone_decides_today(settings):
    from plans import services
    from plans.models import Task
    from rooms.actors import Actor
    from tests.factories import RoomFactory

    room = RoomFactory(timezone="Pacific/Kiritimati")  # UTC+14: its day starts first
    room.target_close_date = room.today() + datetime.timedelta(days=60)
    room.save()
    services.plan_start(actor=Actor.system(), room=room, template_slug="light")
    first = Task.objects.for_room(room).order_by("due_date").first()
    Task.objects.filter(pk=first.pk).update(due_date=room.today() - datetime.timedelta(days=1))
    from plans.selectors import room_schedule

    result = room_schedule(room)
    assert result.today == room.today()
    assert result.of(first.pk).late_days == 1


# --- problems -----------------------------------------------------------------------------


def codes(found):
    return sorted((p.code, p.target) for p in found)


def test_problems_name_their_items():
    items = [
        ms("tech", D(2027, 1, 20)),
        ms("legal", D(2027, 1, 15), "tech", order=1, condition=""),  # dated before tech
        task("late", "tech", D(2027, 1, 25), buyer_side=True),  # due after its milestone
        task("after", "legal", D(2027, 3, 1), has_owner=False),
    ]
    found = schedule.problems(items, target_close=D(2027, 2, 1), template="standard")
    assert codes(found) == sorted(
        [
            ("date_before_dependency", "legal"),
            ("vague_condition", "legal"),
            ("task_after_milestone", "late"),
            ("task_after_milestone", "after"),
            ("after_close", "after"),
            ("no_owner", "after"),
        ]
    )
    by_code = {(p.code, p.target): p for p in found}
    move = by_code[("date_before_dependency", "legal")]
    assert move.fix_date == D(2027, 1, 21) and "after “tech”" in move.fix
    assert by_code[("task_after_milestone", "late")].fix_date == D(2027, 1, 20)
    assert by_code[("after_close", "after")].fix_date == D(2027, 2, 1)


def test_plan_wide_problems():
    seller_only = [ms("m", D(2027, 1, 20))] + [
        task(f"t{i}", "m", D(2027, 1, 10)) for i in range(16)
    ]
    found = schedule.problems(seller_only, target_close=D(2027, 2, 1), template="standard")
    assert ("no_buyer_tasks", None) in codes(found)
    too_many = next(p for p in found if p.code == "too_many_items")
    assert "16 tasks" in too_many.message and "10–15" in too_many.message
    light = schedule.problems(seller_only[:8], target_close=D(2027, 2, 1), template="light")
    assert "too_many_items" not in {p.code for p in light}


def test_in_past_is_work_dated_before_it_was_planned():
    items = [
        ms("m", D(2027, 1, 20), created=D(2027, 1, 1)),
        task("old", "m", D(2026, 12, 20), created=D(2027, 1, 1), buyer_side=True),
        task("done", "m", D(2026, 12, 20), created=D(2027, 1, 1), done=True),
    ]
    found = schedule.problems(items, target_close=D(2027, 2, 1))
    assert ("in_past", "old") in codes(found)
    assert ("in_past", "done") not in codes(found)
