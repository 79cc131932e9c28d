"""KPI numbers on a known data set (timestamps fixed relative to a fixed 'now')."""

import datetime

import pytest

from dashboard.kpis import compute, week_points
from plans import services as plan_services
from plans.models import TaskStatus
from rooms.models import Outcome, Room
from tests.factories import MilestoneFactory, PlanFactory, RoomFactory, TaskFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 11, 25, 12, 0, tzinfo=datetime.UTC)  # a Wednesday


def ago(days):
    return NOW - datetime.timedelta(days=days)


@pytest.fixture
def data(org, owner):
    def room(name, *, created, outcome=Outcome.OPEN, closed=None, engaged=False):
        return RoomFactory(
            org=org,
            owner=owner,
            name=name,
            created_at=ago(created),
            outcome=outcome,
            closed_at=ago(closed) if closed is not None else None,
            last_buyer_contribution_at=ago(closed + 3) if engaged else None,
        )

    def plan(room, *, created, agreed=None):
        return PlanFactory(
            room=room,
            org=org,
            created_at=ago(created),
            agreed_at=ago(agreed) if agreed is not None else None,
        )

    a = room("A", created=100)
    plan_a = plan(a, created=90, agreed=30)
    b = room("B", created=100)
    plan(b, created=95)
    room("C", created=10)  # no plan
    d = room("D", created=60, outcome=Outcome.WON, closed=5, engaged=True)
    plan(d, created=50, agreed=40)
    e = room("E", created=50, outcome=Outcome.LOST, closed=20, engaged=True)
    plan(e, created=45, agreed=38)
    f = room("F", created=80, outcome=Outcome.WON, closed=40)
    plan(f, created=105)
    g = room("G", created=200, outcome=Outcome.LOST, closed=100)
    plan(g, created=150)

    m = MilestoneFactory(plan=plan_a)

    def task(due, completed=None, created=50):
        return TaskFactory(
            milestone=m,
            due_date=(NOW - datetime.timedelta(days=due)).date(),
            status=TaskStatus.DONE if completed is not None else TaskStatus.NOT_STARTED,
            completed_at=ago(completed) if completed is not None else None,
            created_at=ago(created),
        )

    task(10, completed=12)  # done early
    task(3)  # late
    task(-5)  # not due yet
    task(2, completed=1, created=1)  # created yesterday, due before: done
    # A closed room's tasks stop counting once it closed.
    TaskFactory(
        milestone=MilestoneFactory(plan=d.plan),
        due_date=(NOW - datetime.timedelta(days=8)).date(),
        created_at=ago(30),
    )
    # Rows made by factories, not services: bring the rooms' copies up to date.
    plan_services.room_plan_recount(Room.objects.filter(org=org).values_list("pk", flat=True))
    return Room.objects.filter(org=org)


def test_week_points_are_the_last_11_week_ends_and_now():
    points = week_points(NOW)
    assert len(points) == 12 and points[-1] == NOW
    assert points[-2] == datetime.datetime(2026, 11, 23, tzinfo=datetime.UTC)  # Monday
    assert all(
        (b - a) == datetime.timedelta(weeks=1)
        for a, b in zip(points[:-2], points[1:-1], strict=True)
    )


def test_kpis_now(data):
    k = compute(data, now=NOW)
    s = k["series"]
    # Open now: A, B, C; agreed: A.
    assert (k["open_now"], k["agreed_now"]) == (3, 1)
    assert s["coverage"][-1] == 33.3
    # Due by now in open rooms: three of A's tasks, two of them done.
    assert (k["tasks_due_now"], k["tasks_done_now"]) == (3, 2)
    assert s["completion"][-1] == 66.7
    # Closed in the last 12 weeks: D won (engaged), E lost (engaged), F won (not).
    assert s["win_engaged"][-1] == 50.0
    assert s["win_other"][-1] == 100.0
    assert k["counts"]["engaged"][-1] == 2 and k["counts"]["other"][-1] == 1
    # Plan to close: D 45, E 25, F 65 days.
    assert s["days"][-1] == 45.0


def test_kpis_five_weeks_back(data):
    k = compute(data, now=NOW)
    points = k["points"]
    i = 5  # Monday 2026-10-19, 37.5 days before NOW
    assert points[i] == datetime.datetime(2026, 10, 19, tzinfo=datetime.UTC)
    s = k["series"]
    # Open then: A, B, D, E (F had closed 40 days ago, C did not exist yet).
    # Agreed by then: D (40 days ago) and E (38 days ago); A only 30 days ago.
    assert s["coverage"][i] == 50.0
    assert s["completion"][i] is None  # nothing was due yet
    # Closed in the 12 weeks before: F (won) and G (lost), neither engaged.
    assert s["win_engaged"][i] is None
    assert s["win_other"][i] == 50.0
    assert s["days"][i] == 57.5  # F: 105 - 40 = 65 days, G: 150 - 100 = 50 days


def test_kpis_of_an_empty_scope(org):
    k = compute(Room.objects.filter(org=org), now=NOW)
    assert k["series"]["coverage"] == [None] * 12
    assert k["series"]["win_engaged"] == [None] * 12


def test_kpis_are_cached_and_refreshed_in_the_background_when_stale(
    org, owner, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from django.core.cache import cache
    from django.utils import timezone

    from dashboard import kpis
    from dashboard.tasks import refresh_kpis

    now = timezone.now()  # the worker stamps its refresh with the real clock
    RoomFactory(org=org, owner=owner, created_at=now - datetime.timedelta(days=30))
    with django_assert_num_queries(3):  # computed in the request the first time
        first = kpis.kpis_for(org_id=org.pk, now=now)
    assert first["open_now"] == 1

    RoomFactory(org=org, owner=owner, created_at=now - datetime.timedelta(days=2))
    with django_assert_num_queries(0), django_capture_on_commit_callbacks() as queued:
        fresh = kpis.kpis_for(org_id=org.pk, now=now + datetime.timedelta(minutes=4))
    assert fresh["open_now"] == 1 and queued == []  # fresh enough: served as is

    later = now + datetime.timedelta(minutes=6)
    with django_assert_num_queries(0), django_capture_on_commit_callbacks() as queued:
        stale = kpis.kpis_for(org_id=org.pk, now=later)
        again = kpis.kpis_for(org_id=org.pk, now=later)
    assert stale["open_now"] == 1 and again["open_now"] == 1  # served while refreshed
    assert len(queued) == 1  # one refresh queued, not one per request

    refresh_kpis(str(org.pk))  # what the worker runs
    assert kpis.kpis_for(org_id=org.pk, now=timezone.now())["open_now"] == 2
    assert cache.get(kpis.cache_key(org.pk) + ":refreshing") is None


def test_a_reps_kpis_cover_only_their_rooms(org, owner, member):
    from dashboard import kpis

    RoomFactory(org=org, owner=owner, created_at=ago(30))
    RoomFactory(org=org, owner=member, created_at=ago(30))
    assert kpis.kpis_for(org_id=org.pk, owner_id=owner.pk, now=NOW)["open_now"] == 1
    assert kpis.kpis_for(org_id=org.pk, now=NOW)["open_now"] == 2
