"""Every badge and the health formula, on rooms built by hand through the services."""

import datetime

import pytest
from django.utils import timezone

from alerts.sweep import sweep_overdue
from plans import health
from plans.health import room_signals
from plans.models import TaskStatus
from rooms.models import Room
from stakeholders.models import Side
from tests.factories import RoomFactory

from .conftest import Builder, days

pytestmark = pytest.mark.django_db


def later(n):
    return timezone.now() + datetime.timedelta(days=n)


def healthy_room(build):
    """Plan agreed by the buyer, approver has looked, progress today, nothing late."""
    ann = build.person("Ann")
    carl = build.approver("Carl")
    m = build.milestone()
    t = build.task(m, owner=ann, due=days(5))
    build.task(m, owner=ann, due=days(8))
    from plans import services as plan_services

    plan_services.plan_agree(access=build.access(ann))
    build.view(carl)
    build.update(t, status=TaskStatus.DONE)
    return ann, carl


def test_a_room_doing_everything_right_scores_100_without_badges(build, room):
    healthy_room(build)
    s = room_signals(room)
    assert s.health_score == 100
    assert s.badges == ()
    assert s.health_band == "healthy"
    assert sum(points for _, points in s.contributions) == 100
    assert len(s.contributions) == 8


def test_room_without_a_plan(room, build):
    s = room_signals(room)
    assert s.has_map is False
    assert "seller_only" not in s.badges and "zombie" not in s.badges
    assert s.badges == ("approver_dark",)
    # Only "nothing overdue" earns points without a plan or a buyer.
    assert s.health_score == health.W_ON_TIME
    assert ("No MAP yet", 0) in s.contributions


def test_seller_only_until_a_buyer_edits_comments_or_agrees(build, room):
    ann = build.person("Ann")
    m = build.milestone()
    task = build.task(m, owner=ann)
    build.view(ann)  # looking is not co-creating
    s = room_signals(room)
    assert "seller_only" in s.badges
    assert ("No buyer edit, comment or agreement", 0) in s.contributions
    build.comment(task, ann)
    s = room_signals(room)
    assert "seller_only" not in s.badges
    assert ("Buyer edited, commented or agreed", health.W_CO_CREATED) in s.contributions


def test_vague_completion_badge(build, room):
    build.milestone("Security review", condition="")
    build.milestone("Legal", condition="Redlined MSA agreed")
    s = room_signals(room)
    assert "vague" in s.badges
    assert s.vague_milestones == 1
    assert ("1 milestone without a completion condition", 0) in s.contributions


def test_approver_dark_until_an_approver_opens_the_room(build, room):
    ann = build.person("Ann")
    carl = build.approver("Carl")
    build.view(ann)
    s = room_signals(room)
    assert "approver_dark" in s.badges
    assert ("No approver has opened the room", 0) in s.contributions
    build.view(carl)
    s = room_signals(room)
    assert "approver_dark" not in s.badges
    assert ("An approver opened the room", health.W_APPROVER) in s.contributions


def test_approver_dark_when_no_approver_is_named(build, room):
    build.person("Ann")
    s = room_signals(room)
    assert "approver_dark" in s.badges
    assert ("No approver named", 0) in s.contributions


def test_zombie_after_21_days_without_a_completion(build, room):
    m = build.milestone()
    t = build.task(m, due=days(30))
    build.update(t, status=TaskStatus.DONE)
    assert "zombie" not in room_signals(room, now=later(20)).badges
    s = room_signals(room, now=later(22))
    assert "zombie" in s.badges
    assert s.days_since_completion_changed == 22
    assert any(label.startswith("Zombie") and p == 0 for label, p in s.contributions)
    # Adding work or moving dates is not progress; completing a task is.
    build.task(m, due=days(40))
    assert "zombie" in room_signals(room, now=later(22)).badges


def test_overdue_badge_and_points_follow_the_sweep(build, room):
    ann = build.person("Ann")
    m = build.milestone()
    task = build.task(m, owner=ann, due=days(-4))
    # Planned a month ago (the sweep never flags work that was late when created).
    type(task).objects.filter(pk=task.pk).update(created_at=later(-30))
    assert "overdue" not in room_signals(room).badges
    sweep_overdue(today=days(0))
    s = room_signals(room)
    assert "overdue" in s.badges and s.flagged_count == 1
    assert ("1 task(s) 3+ days overdue", health.W_ON_TIME_FLAGGED) in s.contributions
    sweep_overdue(today=days(4))
    s = room_signals(room)
    assert s.alerted_count == 1
    assert ("1 task(s) 7+ days overdue", 0) in s.contributions


def test_buyer_recency_points_fade(build, room):
    ann = build.person("Ann")
    build.view(ann)

    def recency(now):
        return room_signals(room, now=now).contributions[4]

    assert recency(later(0)) == ("Buyer active in the last 7 days", health.W_RECENT)
    assert recency(later(10)) == ("Buyer last active 10 days ago", health.W_RECENT_SOME)
    assert recency(later(15)) == ("Buyer last active 15 days ago", 0)


def test_signals_for_crm_and_header(build, room):
    ann = build.person("Ann")
    sam = build.person("Sam", side=Side.SELLER)
    m1 = build.milestone("Validation", lead_side=Side.BUYER)
    build.milestone("Proposal", lead_side=Side.SELLER)
    build.milestone("Legal", lead_side=Side.BUYER)
    t1 = build.task(m1, owner=ann, due=days(-2))
    build.task(m1, owner=sam, due=days(-1), status=TaskStatus.BLOCKED)
    build.view(ann)
    s = room_signals(room)
    assert s.has_map is True
    assert s.buyer_milestones_total == 2 and s.buyer_milestones_completed == 0
    assert s.current_blocker.pk == t1.pk  # the earliest overdue
    assert s.current_blocker.owner == ann
    assert s.last_buyer_interaction_at is not None
    assert s.days_since_last_milestone_completion is None
    build.update(t1, status=TaskStatus.DONE)
    s = room_signals(room)
    assert s.buyer_milestones_completed == 0  # m1 still has the blocked task
    assert s.current_blocker.title == "Task" and s.current_blocker.status == "blocked"
    assert s.current_blocker.owner == sam


def test_blocker_is_late_by_the_rooms_own_date(build, room, owner):
    """At noon UTC on the 23rd it is already the 24th in Kiritimati (UTC+14): a task due
    on the 23rd is late there, on the room page's signals and on the dashboard row."""
    from accounts.models import Membership
    from dashboard.selectors import dashboard_rooms, rows_of

    Room.objects.filter(pk=room.pk).update(timezone="Pacific/Kiritimati")
    room.refresh_from_db()
    now = datetime.datetime(2026, 11, 23, 12, 0, tzinfo=datetime.UTC)
    m = build.milestone()
    task = build.task(m, due=datetime.date(2026, 11, 23))
    assert room_signals(room, now=now).current_blocker.pk == task.pk
    membership = Membership.objects.get(user=owner, org=room.org)
    rooms = dashboard_rooms(membership, {}, now=now, today=now.date()).filter(pk=room.pk)
    (row,) = rows_of(rooms, now=now)
    assert row.signals.current_blocker.pk == task.pk


def test_days_since_last_milestone_completion(build, room):
    m = build.milestone()
    t = build.task(m)
    build.update(t, status=TaskStatus.DONE)
    assert room_signals(room).days_since_last_milestone_completion == 0
    assert room_signals(room, now=later(5)).days_since_last_milestone_completion == 5


@pytest.mark.parametrize("offset", [0, 10, 15, 22, 40])
def test_sql_score_and_badge_filters_agree_with_python(org, owner, offset):
    """The list sorts and filters in SQL; the hover explains in Python: same numbers."""
    rooms = [RoomFactory(org=org, owner=owner) for _ in range(6)]
    b = [Builder(r) for r in rooms]
    healthy_room(b[0])
    b[1].milestone(condition="")
    ann = b[2].person("Ann")
    b[2].view(ann)
    m = b[3].milestone()
    b[3].task(m, due=days(-8))
    sweep_overdue(today=days(0))
    carl = b[4].approver()
    b[4].view(carl)
    now = later(offset)
    queryset = Room.objects.filter(org=org).annotate(score=health.health_expression(now))
    for room in queryset:
        s = room_signals(room, now=now)
        assert room.score == s.health_score, (room.name, s.contributions)
        for badge in health.BADGES:
            in_sql = (
                Room.objects.filter(pk=room.pk).filter(health.badge_filter(badge, now)).exists()
            )
            assert in_sql == (badge in s.badges), (room.name, badge)


def test_bands():
    assert health.band_of(100) == "healthy" and health.band_of(70) == "healthy"
    assert health.band_of(69) == "watch" and health.band_of(40) == "watch"
    assert health.band_of(39) == "at_risk" and health.band_of(0) == "at_risk"
