"""The plan's schedule on the dashboard and in the health score: the projected close
and slip columns, sorting and filtering on them, the slip penalty and the "slipping"
badge."""

import csv
import datetime
import io
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from plans import health
from plans.health import room_signals
from plans.models import Task
from plans.services import plan_changed
from rooms.models import Room
from tests.conftest import login
from tests.factories import MembershipFactory, RoomFactory

from .conftest import Builder

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:index")
CSV_URL = reverse("dashboard:export")


def names(response):
    return re.findall(r'class="deal-link">([^<]+)</a>', response.content.decode())


def row_of(response, name):
    html = response.content.decode()
    start = html.index(f'class="deal-link">{name}</a>')
    return html[start : html.index("</tr>", start)]


def late_room(org, owner, name="Late deal"):
    """A room whose plan really slips: its one milestone was due 5 days ago and waits
    for a task due 10 days ago (still open), and the target close was 4 days ago.
    The task finishes today at the earliest, the milestone 5 days after it: the
    projected close is 9 days past the target."""
    room = RoomFactory(org=org, owner=owner, name=name)
    today = room.today()
    b = Builder(room)
    m = b.milestone("Security review", target_date=today - datetime.timedelta(days=5))
    task = b.task(m, "Send the questionnaire", due=today - datetime.timedelta(days=10))
    Task.objects.filter(pk=task.pk).update(created_at=task.created_at - datetime.timedelta(days=30))
    Room.objects.filter(pk=room.pk).update(target_close_date=today - datetime.timedelta(days=4))
    plan_changed([room.pk])
    room.refresh_from_db()
    return room


def on_time_room(org, owner, name="On-time deal"):
    room = RoomFactory(org=org, owner=owner, name=name)
    today = room.today()
    b = Builder(room)
    m = b.milestone("Legal", target_date=today + datetime.timedelta(days=20))
    b.task(m, "Redline the MSA", due=today + datetime.timedelta(days=10))
    room.refresh_from_db()
    return room


def scheduled(org, owner, name, slip, projected=True):
    """A room with its schedule columns set directly (display, sort and filter only)."""
    room = RoomFactory(org=org, owner=owner, name=name)
    fields = {"slip_days": slip, "projected_close_date": None}
    if projected:
        fields["projected_close_date"] = room.target_close_date + datetime.timedelta(
            days=max(slip, 0)
        )
    Room.objects.filter(pk=room.pk).update(**fields)
    room.refresh_from_db()
    return room


@pytest.fixture
def deals(org, owner):
    """Open rooms of the organisation with known slips; no projection for Delta."""
    return {
        "alpha": scheduled(org, owner, "Alpha", 3),
        "bravo": scheduled(org, owner, "Bravo", 12),
        "charlie": scheduled(org, owner, "Charlie", 0),
        "delta": scheduled(org, owner, "Delta", 0, projected=False),
        "echo": scheduled(org, owner, "Echo", 12),
        "foxtrot": scheduled(org, owner, "Foxtrot", 8),
    }


# --- the table -------------------------------------------------------------------------


def test_columns_render(member_client, org, owner):
    late = late_room(org, owner)
    assert late.slip_days == 9
    assert late.projected_close_date == late.today() + datetime.timedelta(days=5)
    assert on_time_room(org, owner).slip_days == 0
    RoomFactory(org=org, owner=owner, name="No plan deal")
    response = member_client.get(URL)
    html = response.content.decode()
    assert ">Projected close</a>" in html and ">Slip</a>" in html
    late_row = row_of(response, "Late deal")
    projected = late.projected_close_date
    assert f"{projected:%b} {projected.day}, {projected.year}" in late_row
    assert "9 days late" in late_row and "slip-bad" in late_row
    assert "on time" in row_of(response, "On-time deal")
    no_plan = row_of(response, "No plan deal")
    assert "late" not in no_plan and "on time" not in no_plan
    assert no_plan.count('<td class="muted">—</td>') == 2


def test_slip_labels(member_client, org, owner):
    scheduled(org, owner, "One", 1)
    scheduled(org, owner, "Early", -3)  # everything done before the target
    response = member_client.get(URL)
    assert "1 day late" in row_of(response, "One")
    assert "3 days early" in row_of(response, "Early")


def test_sort_by_slip_both_ways(member_client, deals):
    # Equal slips keep the name order both ways; no projection comes last both ways.
    assert names(member_client.get(URL, {"sort": "slip"})) == [
        "Charlie",
        "Alpha",
        "Foxtrot",
        "Bravo",
        "Echo",
        "Delta",
    ]
    assert names(member_client.get(URL, {"sort": "-slip"})) == [
        "Bravo",
        "Echo",
        "Foxtrot",
        "Alpha",
        "Charlie",
        "Delta",
    ]


def test_sort_by_projected_close_both_ways(member_client, deals):
    ascending = names(member_client.get(URL, {"sort": "projected"}))
    assert ascending[-1] == "Delta"
    assert ascending[:2] == ["Charlie", "Alpha"] and set(ascending[-3:-1]) == {"Bravo", "Echo"}
    descending = names(member_client.get(URL, {"sort": "-projected"}))
    assert descending[:2] == ["Bravo", "Echo"] and descending[-1] == "Delta"


def test_sort_links_toggle_and_mark_the_column(member_client, deals):
    html = member_client.get(URL, {"sort": "slip"}).content.decode()
    assert 'aria-sort="ascending" class="col-slip"' in html
    assert 'href="?sort=-slip"' in html
    html = member_client.get(URL, {"sort": "-slip"}).content.decode()
    assert 'aria-sort="descending" class="col-slip"' in html


def test_filter_slipping_over_7_days(member_client, deals):
    response = member_client.get(URL, {"slip": 7})
    assert set(names(response)) == {"Bravo", "Echo", "Foxtrot"}
    html = response.content.decode()
    assert '<option value="7" selected>' in html  # the active filter shows
    assert "<strong>3</strong> open rooms match" in html
    assert set(names(member_client.get(URL, {"slip": 0}))) == {
        "Alpha",
        "Bravo",
        "Echo",
        "Foxtrot",
    }
    # Combined with a sort, and kept in the sort links and the export link.
    response = member_client.get(URL, {"slip": 7, "sort": "-slip"})
    assert names(response) == ["Bravo", "Echo", "Foxtrot"]
    html = response.content.decode()
    assert 'href="?slip=7&amp;sort=slip"' in html
    assert f"{CSV_URL}?slip=7&amp;sort=-slip" in html


def test_filter_on_a_real_late_plan(member_client, org, owner):
    late_room(org, owner)
    on_time_room(org, owner)
    assert names(member_client.get(URL, {"slip": 7})) == ["Late deal"]
    assert names(member_client.get(URL, {"badge": "slipping"})) == ["Late deal"]


def test_an_unknown_slip_value_is_named_and_ignored(member_client, deals):
    response = member_client.get(URL, {"slip": "5"})
    assert response.status_code == 200
    assert "Slip: " in response.content.decode() and "(ignored)" in response.content.decode()
    assert len(names(response)) == 6
    response = member_client.get(URL, {"slip": "lots"})
    assert len(names(response)) == 6 and "(ignored)" in response.content.decode()


def test_another_organisations_rooms_never_appear(other_org, org, owner, deals):
    manager = MembershipFactory(org=other_org, role=Role.MANAGER).user
    theirs = scheduled(other_org, manager, "Theirs", 30)
    scheduled(other_org, manager, "Theirs on time", 0)
    client = login(manager)
    for params in ({"slip": 7}, {"slip": 0, "sort": "-slip"}, {"slip": 7, "sort": "projected"}):
        assert names(client.get(URL, params)) == ["Theirs"]
    assert names(client.get(URL, {"sort": "slip"})) == ["Theirs on time", "Theirs"]
    rows = list(csv.DictReader(io.StringIO(_body(client.get(CSV_URL, {"slip": 7})))))
    assert [r["Deal"] for r in rows] == ["Theirs"]
    # ... and ours never show theirs.
    ours = login(MembershipFactory(org=org, role=Role.MANAGER).user)
    assert theirs.name not in names(ours.get(URL, {"slip": 7, "sort": "-slip"}))


def test_a_rep_sees_only_their_own_slipping_rooms(org, owner, deals):
    rep = MembershipFactory(org=org, role=Role.REP).user
    scheduled(org, rep, "Mine", 20)
    scheduled(org, rep, "Mine on time", 0)
    assert names(login(rep).get(URL, {"slip": 7})) == ["Mine"]


def _body(response):
    return b"".join(response.streaming_content).decode()


def test_csv_has_the_schedule(member_client, deals):
    rows = list(csv.DictReader(io.StringIO(_body(member_client.get(CSV_URL, {"sort": "deal"})))))
    by_name = {r["Deal"]: r for r in rows}
    assert by_name["Bravo"]["Slip days"] == "12"
    assert by_name["Bravo"]["Projected close"] == deals["bravo"].projected_close_date.isoformat()
    assert by_name["Delta"]["Slip days"] == "" and by_name["Delta"]["Projected close"] == ""
    assert by_name["Charlie"]["Slip days"] == "0"


def test_query_count_is_the_same_with_the_slip_sort_and_filter(member_client, deals, monkeypatch):
    from dashboard import views

    # The KPIs computed once and kept in this process (the shared cache is a folder
    # other processes may clear): the table's queries are what is counted.
    kept = {}
    compute = views.kpis_for

    def kpis_once(**kwargs):
        if "value" not in kept:
            kept["value"] = compute(**kwargs)
        return kept["value"]

    monkeypatch.setattr(views, "kpis_for", kpis_once)
    member_client.get(URL)

    def count(**params):
        with CaptureQueriesContext(connection) as queries:
            response = member_client.get(URL, params)
        assert response.status_code == 200
        # The session comes from the shared cache or the database, as it happens.
        table = [q for q in queries.captured_queries if "django_session" not in q["sql"]]
        return len(table), names(response)

    plain, _ = count()
    n, shown = count(sort="-slip")
    assert n == plain and shown[0] == "Bravo"
    n, shown = count(sort="projected", slip=7)
    assert n == plain and set(shown) == {"Bravo", "Echo", "Foxtrot"}


# --- the health score ------------------------------------------------------------------


def test_health_takes_the_slip_off_and_badges_it(org, owner):
    room = late_room(org, owner)
    s = room_signals(room)
    assert s.slip_days == 9 and s.projected_close_date == room.projected_close_date
    assert ("Projected close 9 days past target", -9) in s.contributions
    assert s.contributions[-1] == ("Projected close 9 days past target", -9)
    assert "slipping" in s.badges
    assert s.health_score == sum(points for _, points in s.contributions)
    assert "- 9  Projected close 9 days past target" in s.health_explained
    # Back on time (the target close moves out): no penalty, no badge, 9 points back.
    Room.objects.filter(pk=room.pk).update(
        target_close_date=room.today() + datetime.timedelta(days=30)
    )
    plan_changed([room.pk])
    back = room_signals(room)
    assert back.slip_days == 0
    assert "slipping" not in back.badges
    assert not any(label.startswith("Projected close") for label, _ in back.contributions)
    assert back.health_score == s.health_score + 9


def test_penalty_grows_with_the_slip_and_is_capped(org, owner):
    room = on_time_room(org, owner)
    base = room_signals(room).health_score
    for slip, penalty in ((0, 0), (1, 1), (7, 7), (8, 8), (20, 20), (45, health.W_SLIP_MAX)):
        Room.objects.filter(pk=room.pk).update(slip_days=slip)
        s = room_signals(room)
        assert s.health_score == base - penalty, slip
        assert ("slipping" in s.badges) == (slip > health.SLIPPING_DAYS), slip
    Room.objects.filter(pk=room.pk).update(slip_days=-4)  # done early: no bonus
    assert room_signals(room).health_score == base


def test_the_score_never_goes_below_zero(org, owner):
    room = RoomFactory(org=org, owner=owner)
    Room.objects.filter(pk=room.pk).update(slip_days=30, alerted_count=1)
    s = room_signals(room)
    assert s.health_score == 0
    assert sum(points for _, points in s.contributions) < 0


def test_badge_label_and_filter_on_the_dashboard(member_client, deals):
    response = member_client.get(URL, {"badge": "slipping"})
    assert set(names(response)) == {"Bravo", "Echo", "Foxtrot"}
    assert '<span class="badge badge-slipping"' in row_of(response, "Bravo")
    assert "badge-slipping" not in row_of(member_client.get(URL), "Alpha")


@pytest.mark.parametrize("slip", [-2, 0, 5, 8, 19, 20, 60])
def test_sql_score_and_badge_agree_with_python(org, owner, slip):
    late = late_room(org, owner, name="Late")
    other = on_time_room(org, owner, name="Other")
    bare = RoomFactory(org=org, owner=owner, name="Bare")
    Room.objects.filter(pk__in=[other.pk, bare.pk]).update(slip_days=slip)
    now = datetime.datetime.now(datetime.UTC)
    queryset = Room.objects.filter(org=org).annotate(score=health.health_expression(now))
    assert {r.pk for r in queryset} == {late.pk, other.pk, bare.pk}
    for room in queryset:
        s = room_signals(room, now=now)
        assert room.score == s.health_score, (room.name, s.contributions)
        in_sql = (
            Room.objects.filter(pk=room.pk).filter(health.badge_filter("slipping", now)).exists()
        )
        assert in_sql == ("slipping" in s.badges), room.name
