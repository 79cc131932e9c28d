"""The overdue sweep: +3 flags, +7 alerts, each once, from database state alone."""

import datetime
import threading

import pytest
from django.core.management import call_command
from django.db import connections
from django.urls import reverse

from accounts.models import Role
from alerts.messages import render
from alerts.models import Notification
from alerts.sweep import sweep_overdue
from plans.models import Task
from plans.services import task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from tests.factories import (
    MembershipFactory,
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
DUE = datetime.date(2026, 11, 10)
# When such tasks were planned: before they fell due (work created already late is
# never flagged).
PLANNED = datetime.datetime(2026, 10, 1, tzinfo=datetime.UTC)


def day(n):
    return DUE + datetime.timedelta(days=n)


@pytest.fixture
def task(room, org):
    MembershipFactory(org=org, role=Role.MANAGER)
    champion = StakeholderFactory(
        room=room, name="Maria Lopez", role="champion", email="maria@acme.example"
    )
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan, title="Security review complete")
    MilestoneFactory(plan=plan, title="Contract signed").depends_on.add(milestone)
    owner = StakeholderFactory(room=room, name="Priya Nair", email="priya@acme.example")
    del champion
    return TaskFactory(milestone=milestone, title="Review SOC 2", due_date=DUE, owner=owner)


def flags(task):
    """The levels the room's activity says the task reached, in order (a sweep's entry
    names its room's tasks in its changes, by id)."""
    verbs = ActivityEvent.objects.filter(target_type="task", changes__has_key=str(task.pk))
    levels = {"flagged": 3, "alerted": 7}
    return [
        levels[verb]
        for verb in verbs.filter(verb__in=levels).order_by("id").values_list("verb", flat=True)
    ]


def test_two_days_late_is_nothing(task):
    sweep_overdue(today=day(2))
    assert flags(task) == [] and Notification.objects.count() == 0


def test_three_days_late_flags_once_and_tells_the_room_owner(task, room, org):
    result = sweep_overdue(today=day(3))
    assert flags(task) == [3] and result.flagged == 1
    (note,) = Notification.objects.all()
    assert (note.channel, note.recipient) == ("slack", "channel")
    text = render(note, today=day(3)).text
    assert "3 days overdue" in text and "Review SOC 2" in text
    # The team's channel hears it once, addressed to the room's owner (not the managers).
    manager = org.memberships.get(role=Role.MANAGER).user
    assert text.startswith(f"{room.owner.display_name}: ") and manager.display_name not in text
    task.refresh_from_db()
    room.refresh_from_db()
    assert task.overdue_flag == "flagged" and room.flagged_count == 1
    (entry,) = ActivityEvent.objects.filter(verb="flagged")
    assert (entry.target_id, entry.target_label) == (str(task.pk), "Review SOC 2")
    late = {"label": "Review SOC 2", "to": "3 days late", "days": 3}
    assert entry.changes == {str(task.pk): late}


def test_six_days_late_is_still_one_flag(task):
    sweep_overdue(today=day(3))
    sweep_overdue(today=day(4))
    sweep_overdue(today=day(6))
    assert flags(task) == [3] and Notification.objects.count() == 1


def test_seven_days_late_alerts_once_on_every_channel(task, room, org):
    sweep_overdue(today=day(3))
    result = sweep_overdue(today=day(7))
    sweep_overdue(today=day(9))
    assert sorted(flags(task)) == [3, 7] and result.alerted == 1
    alerts = Notification.objects.filter(level=7)
    # One post to the team's channel (not one identical post per person) that names the
    # room's owner and the organisation's managers.
    (slack,) = [n for n in alerts if n.channel == "slack"]
    assert slack.recipient == "channel"
    manager = org.memberships.get(role=Role.MANAGER).user
    text = render(slack, today=day(7)).text
    assert text.startswith(f"{room.owner.display_name}, {manager.display_name}: ")
    assert "7 days overdue" in text and "Security review complete" in text
    emails = {n.recipient: n for n in alerts if n.channel == "email"}
    assert set(emails) == {"maria@acme.example", "priya@acme.example"}
    text = render(emails["maria@acme.example"], today=day(7)).text
    assert "7 days late" in text and "Security review complete" in text
    assert "Contract signed" in text  # what it blocks
    assert "/b/room/" in text and "/b/" + "x" not in text  # the token-free buyer page
    task.refresh_from_db()
    room.refresh_from_db()
    assert task.overdue_flag == "alerted" and (room.flagged_count, room.alerted_count) == (0, 1)


def test_a_rooms_tasks_crossing_together_are_one_entry_in_its_activity(task, room, owner_client):
    """A catch-up (or a busy morning) does not flood the room's activity: one entry per
    room and level names each task and how late it is."""
    second = TaskFactory(milestone=task.milestone, title="Sign the DPA", due_date=day(-2))
    elsewhere = TaskFactory(title="Other room's task", due_date=DUE)
    sweep_overdue(today=day(4))
    (entry,) = ActivityEvent.objects.filter(room=room, verb="flagged")
    assert (entry.target_type, entry.target_id, entry.target_label) == ("task", "", "2 tasks")
    assert entry.changes == {
        str(task.pk): {"label": "Review SOC 2", "to": "4 days late", "days": 4},
        str(second.pk): {"label": "Sign the DPA", "to": "6 days late", "days": 6},
    }
    assert flags(task) == [3] and flags(second) == [3] and flags(elsewhere) == [3]
    page = owner_client.get(reverse("rooms:activity", args=[room.pk])).content.decode()
    assert "mapsite flagged 2 tasks as 3 days or more late" in page
    assert "Review SOC 2 — 4 days late" in page and "Sign the DPA — 6 days late" in page


def test_catch_up_after_downtime_sends_both_levels_once(task):
    result = sweep_overdue(today=day(9))  # beat was down through +3 and +7
    assert flags(task) == [3, 7]  # the flag's entry first
    assert result.flagged == 1 and result.alerted == 1
    assert set(Notification.objects.values_list("level", "channel")) == {
        (3, "slack"),
        (7, "slack"),
        (7, "email"),
    }
    task.room.refresh_from_db()
    assert (task.room.flagged_count, task.room.alerted_count) == (0, 1)
    before = Notification.objects.count()
    sweep_overdue(today=day(9))
    assert Notification.objects.count() == before


def test_a_room_crossing_both_levels_in_one_sweep_moves_on_once(task, room):
    """Live viewers are told once: the room's revision steps once for a sweep that flags
    one of its tasks and alerts another, and both entries carry that revision."""
    sweep_overdue(today=day(3))
    room.refresh_from_db()
    before = room.revision
    later = TaskFactory(milestone=task.milestone, title="Sign the DPA", due_date=day(4))
    result = sweep_overdue(today=day(7))
    assert (result.flagged, result.alerted) == (1, 1)
    room.refresh_from_db()
    assert room.revision == before + 1
    assert (room.flagged_count, room.alerted_count) == (1, 1)
    entries = ActivityEvent.objects.filter(room=room, room_revision=room.revision)
    assert sorted(entries.values_list("verb", "target_label")) == [
        ("alerted", "Review SOC 2"),
        ("flagged", "Sign the DPA"),
    ]
    assert flags(later) == [3]


def test_moving_the_due_date_resets_the_flags_for_the_new_date(task, room, owner):
    sweep_overdue(today=day(3))
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"due_date": day(5)},
    )
    task.refresh_from_db()
    room.refresh_from_db()
    assert task.overdue_flag == "" and room.flagged_count == 0
    sweep_overdue(today=day(7))  # only 2 days past the new date
    assert flags(task) == [3]
    sweep_overdue(today=day(8))  # +3 on the new date: flagged again, for that date
    assert flags(task) == [3, 3]
    assert sorted(Notification.objects.filter(task=task).values_list("due_date", flat=True)) == [
        DUE,
        day(5),
    ]


def test_a_date_moved_away_and_back_is_flagged_again_but_nobody_is_told_twice(task, room, owner):
    sweep_overdue(today=day(3))
    for version, due in ((1, day(20)), (2, DUE)):
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=version,
            changes={"due_date": due},
        )
    task.refresh_from_db()
    assert task.overdue_flag == ""  # the move back started afresh
    sweep_overdue(today=day(4))
    task.refresh_from_db()
    room.refresh_from_db()
    assert task.overdue_flag == "flagged" and room.flagged_count == 1
    assert flags(task) == [3, 3]  # the room's history shows it crossed again
    assert Notification.objects.filter(task=task).count() == 1  # told once


def test_completing_the_task_clears_its_highlight(task, room, owner):
    sweep_overdue(today=day(3))
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"status": "done"},
    )
    task.refresh_from_db()
    room.refresh_from_db()
    assert task.overdue_flag == "" and room.flagged_count == 0
    sweep_overdue(today=day(8))
    assert flags(task) == [3]  # done tasks are never alerted


def test_days_count_in_the_rooms_timezone():
    # At 16:00 UTC on 22 Nov it is 08:00 on the 22nd in Los Angeles (UTC-8) but 01:00 on
    # the 23rd in Tokyo (UTC+9): the same due date is 2 days late there and 3 here.
    instant = datetime.datetime(2026, 11, 22, 16, 0, tzinfo=datetime.UTC)
    tasks = {}
    for tz in ("America/Los_Angeles", "Asia/Tokyo"):
        room = RoomFactory(timezone=tz)
        plan = PlanFactory(room=room, org=room.org)
        tasks[tz] = TaskFactory(
            milestone=MilestoneFactory(plan=plan), due_date=datetime.date(2026, 11, 20)
        )
    sweep_overdue(now=instant)
    assert flags(tasks["America/Los_Angeles"]) == []
    assert flags(tasks["Asia/Tokyo"]) == [3]


def test_won_or_lost_rooms_are_left_alone(task, room):
    Room.objects.filter(pk=room.pk).update(outcome="won")
    sweep_overdue(today=day(9))
    assert flags(task) == []


def test_the_command_prints_what_it_flagged_and_alerted(task, capsys):
    call_command("scan_overdue", "--today", day(7).isoformat())
    out = capsys.readouterr().out
    assert "flagged  Review SOC 2" in out and "alerted  Review SOC 2" in out
    assert "1 task(s) flagged, 1 alerted" in out


def test_the_command_refuses_a_bad_date():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="--today must be a date"):
        call_command("scan_overdue", "--today", "2026-02-30")


def test_highlights_on_the_room_page_and_the_room_list(task, room, owner_client):
    sweep_overdue(today=day(7))
    page = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "alerted" in page
    listing = owner_client.get(reverse("rooms:list")).content.decode()
    assert "1 alerted" in listing


def test_sql_statements_grow_with_batches_not_tasks(room, django_assert_max_num_queries):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    Task.objects.bulk_create(
        [
            Task(
                org=room.org,
                room=room,
                plan=plan,
                milestone=milestone,
                title=f"T{i}",
                due_date=DUE,
                created_at=PLANNED,
                order=i,
            )
            for i in range(120)
        ]
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small:
        sweep_overdue(today=day(3), batch_size=1000)
    assert Task.objects.filter(overdue_level=3).count() == 120
    assert len(small.captured_queries) < 40


@pytest.mark.django_db(transaction=True)
def test_five_concurrent_sweeps_send_each_notification_once():
    room = RoomFactory()
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    owner = StakeholderFactory(room=room, email="owner@acme.example")
    Task.objects.bulk_create(
        [
            Task(
                org=room.org,
                room=room,
                plan=plan,
                milestone=milestone,
                title=f"T{i}",
                due_date=DUE,
                created_at=PLANNED,
                order=i,
                owner=owner,
            )
            for i in range(1000)
        ]
    )
    errors = []
    barrier = threading.Barrier(5)

    def sweep():
        try:
            barrier.wait()
            sweep_overdue(today=day(7), batch_size=200)
        except Exception as exc:  # any failure fails the test
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweep) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert errors == []
    assert Task.objects.filter(overdue_level=7, overdue_for=DUE).count() == 1000
    room.refresh_from_db()
    assert (room.flagged_count, room.alerted_count) == (0, 1000)
    # Per task: one Slack flag and one Slack alert to the team's channel, one email to
    # the task's owner.
    assert Notification.objects.count() == 3000
    # The room's activity names each task once per level (one entry per claimed batch).
    named = {"flagged": [], "alerted": []}
    for verb, changes in ActivityEvent.objects.values_list("verb", "changes"):
        named.get(verb, []).extend(changes)
    assert (
        sorted(named["flagged"])
        == sorted(named["alerted"])
        == sorted(str(pk) for pk in Task.objects.values_list("pk", flat=True))
    )


def test_the_rooms_alerts_page_lists_each_notification_and_why_not_sent(task, room, owner_client):
    sweep_overdue(today=day(3))
    Notification.objects.update(
        status="skipped", last_error="Slack is not configured for this organisation"
    )
    html = owner_client.get(reverse("room_alerts", args=[room.pk])).content.decode()
    assert "Review SOC 2" in html and "Not sent" in html
    assert "Slack is not configured for this organisation" in html


def test_the_rooms_alerts_page_shows_only_its_own_rooms_notifications(task, room, owner_client):
    other = RoomFactory(org=room.org, owner=room.owner, name="Globex renewal")
    other_plan = PlanFactory(room=other, org=other.org)
    TaskFactory(milestone=MilestoneFactory(plan=other_plan), title="Globex DPA", due_date=DUE)
    sweep_overdue(today=day(3))
    assert Notification.objects.count() == 2
    html = owner_client.get(reverse("room_alerts", args=[room.pk])).content.decode()
    assert "Review SOC 2" in html and "Globex DPA" not in html


def test_deleting_a_room_deletes_its_notifications_and_activity(task, room, owner):
    """The outbox and the activity log are not re-checked by the database: the ORM
    deletes them with their room."""
    from accounts.models import Membership
    from rooms.services import room_delete

    sweep_overdue(today=day(7))
    assert Notification.objects.filter(task__room=room).exists()
    membership = Membership.objects.get(user=owner, org=room.org)
    room_delete(actor=Actor(user=owner), membership=membership, room_id=room.pk)
    assert not Notification.objects.exists()
    assert not ActivityEvent.objects.filter(room_id=room.pk).exists()


def test_the_sweep_claims_what_the_overdue_rule_says_and_the_badges_follow(room):
    """One rule: ``Task.objects.crossing`` is what a sweep claims (the sweep compiles its
    SQL from it), and what it claimed is what ``flagged()`` and the badges then show."""
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)

    def make(due, **kwargs):
        return TaskFactory(milestone=milestone, due_date=due, created_at=PLANNED, **kwargs)

    late3, late8, not_yet = make(day(0)), make(day(-5)), make(day(1))
    done = make(day(0), status="done")
    moved = make(day(0), overdue_level=3, overdue_for=day(-2))  # flagged for an old date
    again = make(day(0), overdue_level=3, overdue_for=day(0))  # already there at +3
    today = day(3)
    expected = {late3.pk, late8.pk, moved.pk}
    assert set(Task.objects.crossing(today).values_list("pk", flat=True)) == expected
    sweep_overdue(today=today)
    assert not Task.objects.crossing(today).exists()
    assert set(Task.objects.flagged().values_list("pk", flat=True)) == expected | {again.pk}
    badges = {t.pk: t.overdue_flag for t in Task.objects.filter(room=room)}
    assert badges[late8.pk] == "alerted" and badges[late3.pk] == badges[moved.pk] == "flagged"
    assert badges[not_yet.pk] == badges[done.pk] == ""
    room.refresh_from_db()  # moved by what this sweep claimed (``again`` was made flagged)
    assert (room.flagged_count, room.alerted_count) == (2, 1)
