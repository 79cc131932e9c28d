"""Overdue alerts say what the late task does to the close: the milestone it pushes and
the projected close, or that the close date still holds."""

import datetime

import pytest
from django.utils import timezone

from alerts import delivery, messages
from alerts.messages import render
from alerts.models import Notification, Status
from alerts.sweep import sweep_overdue
from plans import schedule
from plans.models import Milestone, Task
from plans.services import plan_start
from rooms.actors import Actor
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db
DAY = datetime.timedelta(days=1)


def short(d):
    return f"{d.day} {d:%b}"


def make_late(task, today, days=8):
    """``task`` fell due ``days`` ago, and was planned well before that."""
    Task.objects.filter(pk=task.pk).update(
        due_date=today - days * DAY, created_at=timezone.now() - 60 * DAY
    )


@pytest.fixture
def standard_room(room):
    """A room on the Standard template, closing in about 45 days."""
    room.target_close_date = room.today() + 45 * DAY
    room.save(update_fields=["target_close_date"])
    plan_start(actor=Actor.system(), room=room, template_slug="standard")
    return room


def test_alerts_name_the_milestone_pushed_and_the_projected_close(
    standard_room, slack_settings, slack_stub, mailoutbox, monkeypatch
):
    room = standard_room
    today = room.today()
    task = Task.objects.for_room(room).get(title="Review security documentation")
    owner = StakeholderFactory(room=room, name="Priya Nair", email="priya@acme.example")
    Task.objects.filter(pk=task.pk).update(owner=owner)
    make_late(task, today)
    # Security review waits for it, Legal for Security, the signature for Legal: each
    # keeps its planned gap, so the 8 days reach the close.
    close = room.target_close_date
    assert Milestone.objects.for_room(room).order_by("-target_date").first().target_date == close
    expected = (
        f"This pushes “Security review complete” by 8 days and the close to "
        f"{short(close + 8 * DAY)} (target {short(close)})."
    )

    projections = []
    real = messages.room_schedule
    monkeypatch.setattr(
        messages, "room_schedule", lambda *a, **k: projections.append(a) or real(*a, **k)
    )
    sweep_overdue()
    rows = Notification.objects.filter(task=task)
    assert sorted(rows.values_list("level", "channel")) == [
        (3, "slack"),
        (7, "email"),
        (7, "slack"),
    ]
    assert delivery.deliver_due() == {Status.SENT: 3}

    (email,) = mailoutbox
    assert expected in email.body.splitlines()
    texts = [r.json["text"] for r in slack_stub.delivered]
    assert len(texts) == 2 and all(t.endswith("\n" + expected) for t in texts)
    assert all(expected in row.payload["text"] for row in rows)
    # Three messages about one room: its schedule was projected once.
    assert len(projections) == 1


def test_each_delivery_on_its_own_projects_the_room_again(standard_room, slack_settings):
    task = Task.objects.for_room(standard_room).get(title="Review security documentation")
    make_late(task, standard_room.today())
    sweep_overdue()
    for row in Notification.objects.filter(task=task):
        assert delivery.deliver(row.pk) == Status.SENT
        row.refresh_from_db()
        assert "This pushes “Security review complete” by 8 days" in row.payload["text"]


@pytest.fixture
def two_branches(room):
    """A late task in a milestone that has slack: “Pilot done” is far from the close,
    which “Contract signed” (on its own branch) sets."""
    today = room.today()
    room.target_close_date = today + 30 * DAY
    room.save(update_fields=["target_close_date"])
    plan = PlanFactory(room=room, org=room.org)
    pilot = MilestoneFactory(plan=plan, title="Pilot done", target_date=today + 5 * DAY)
    MilestoneFactory(plan=plan, title="Contract signed", target_date=room.target_close_date)
    owner = StakeholderFactory(room=room, name="Priya Nair", email="priya@acme.example")
    task = TaskFactory(milestone=pilot, title="Run the pilot", due_date=today + DAY, owner=owner)
    make_late(task, today)
    return task


def test_a_late_task_with_slack_says_the_close_date_still_holds(two_branches, room):
    sweep_overdue()
    close = short(room.target_close_date)
    expected = f"This pushes “Pilot done” by 8 days; the close date of {close} still holds."
    for row in Notification.objects.filter(task=two_branches):
        assert expected in render(row).text.splitlines()


def test_a_batch_keeps_one_schedule_per_room_and_day(two_branches, room):
    sweep_overdue()
    schedules = {}
    for row in Notification.objects.filter(task=two_branches):
        render(row, schedules=schedules)
    assert list(schedules) == [(room.pk, room.today())]


# --- the sentence, from the schedule alone -------------------------------------------

TODAY = datetime.date(2027, 1, 10)
TARGET = datetime.date(2027, 1, 31)


def m(id, days, **kw):
    return schedule.Item(id, schedule.MILESTONE, id, TODAY + days * DAY, **kw)


def t(id, milestone, days, **kw):
    return schedule.Item(id, schedule.TASK, id, TODAY + days * DAY, milestone_id=milestone, **kw)


def sentence(items, item_id):
    projected = schedule.project(items, today=TODAY, target_close=TARGET)
    consequence = projected.consequences().get(item_id)
    return consequence.text if consequence else ""


def test_late_with_slack_the_close_holds():
    items = [
        m("Pilot done", 5),
        m("Contract signed", 21),
        t("run", "Pilot done", -3),
        t("sign", "Contract signed", 20),
    ]
    assert sentence(items, "run") == (
        "This pushes “Pilot done” by 3 days; the close date of 31 Jan still holds."
    )


def test_late_on_the_critical_path_moves_the_close():
    items = [
        m("Security", 5),
        m("Contract signed", 21, depends_on=("Security",)),
        t("review", "Security", -4),
    ]
    assert sentence(items, "review") == (
        "This pushes “Security” by 4 days and the close to 4 Feb (target 31 Jan)."
    )


def test_one_day():
    items = [m("Contract signed", 21), t("sign", "Contract signed", -1)]
    assert sentence(items, "sign") == (
        "This pushes “Contract signed” by 1 day and the close to 1 Feb (target 31 Jan)."
    )


def test_late_behind_later_work_pushes_nothing():
    # “Legal” finishes after the milestone waits for both tasks; the later one drives it.
    items = [
        m("Legal", 21),
        t("send", "Legal", -2),  # projected today: Legal at 23 days
        t("redline", "Legal", -6),  # projected today: Legal at 27 days (drives it)
    ]
    assert sentence(items, "send") == (
        "It does not move the close, which the plan already puts at 6 Feb (target 31 Jan)."
    )
    # Without “redline” late, “send” would still hold Legal to 23 days: 4 days are its own.
    assert sentence(items, "redline") == (
        "This pushes “Legal” by 4 days and the close to 6 Feb (target 31 Jan)."
    )


def test_pushed_milestone_while_the_close_has_moved_already():
    items = [
        m("Pilot done", 5),
        m("Contract signed", 21),
        t("run", "Pilot done", -2),
        t("sign", "Contract signed", -3),
    ]
    assert sentence(items, "run") == (
        "This pushes “Pilot done” by 2 days; it does not move the close, which the plan "
        "already puts at 3 Feb (target 31 Jan)."
    )


def test_an_item_on_time_has_nothing_to_say():
    items = [m("Contract signed", 21), t("sign", "Contract signed", 3)]
    assert sentence(items, "sign") == ""
