"""The dashboard page and its CSV: scope, filters, sorting, search, pagination, and
the first page's query budget."""

import csv
import io
import re

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from plans.models import TaskStatus
from rooms.actors import Actor
from rooms.models import Outcome, Room, Stage
from rooms.services import room_close
from tests.conftest import login
from tests.factories import MembershipFactory, RoomFactory

from .conftest import Builder, days

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:index")
CSV_URL = reverse("dashboard:export")
HX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "dashboard-table"}


def names(response):
    """Deal names in the table, in order."""
    return re.findall(r'class="deal-link">([^<]+)</a>', response.content.decode())


def csv_rows(response):
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def rooms(org, owner, member):
    """Three open rooms of the rep (owner), one of the manager, one closed."""
    made = {
        "alpha": RoomFactory(
            org=org, owner=owner, name="Alpha", buyer_company="Initech", value=10000
        ),
        "beta": RoomFactory(
            org=org,
            owner=owner,
            name="Beta",
            buyer_company="Globex",
            value=50000,
            stage=Stage.PROPOSAL,
        ),
        "gamma": RoomFactory(
            org=org, owner=owner, name="Gamma", buyer_company="Hooli", value=90000
        ),
        "delta": RoomFactory(org=org, owner=member, name="Delta", buyer_company="Umbrella"),
        "closed": RoomFactory(org=org, owner=owner, name="Closed deal"),
    }
    b = Builder(made["beta"])
    ann = b.person("Ann")
    carl = b.approver("Carl")
    m = b.milestone()
    t = b.task(m, owner=ann, due=days(10))
    b.comment(t, ann)
    b.view(carl)
    b.update(t, status=TaskStatus.DONE)  # Beta: healthy-ish
    g = Builder(made["gamma"])
    g.milestone(condition="")  # Gamma: vague, seller-only
    from accounts.models import Membership

    membership = Membership.objects.get(org=org, user=owner)
    room_close(
        actor=Actor(user=owner),
        membership=membership,
        room_id=made["closed"].pk,
        outcome=Outcome.WON,
    )
    return made


def test_manager_sees_every_open_room_of_the_organisation(member_client, rooms):
    response = member_client.get(URL)
    assert response.status_code == 200
    assert set(names(response)) == {"Alpha", "Beta", "Gamma", "Delta"}


def test_admin_sees_the_organisation_too(admin_user, rooms):
    assert set(names(login(admin_user).get(URL))) == {"Alpha", "Beta", "Gamma", "Delta"}


def test_rep_sees_only_their_own_rooms(owner_client, rooms):
    response = owner_client.get(URL)
    assert set(names(response)) == {"Alpha", "Beta", "Gamma"}
    # ... and cannot widen it with the owner filter.
    delta_owner = rooms["delta"].owner_id
    assert set(names(owner_client.get(URL, {"owner": delta_owner}))) <= {
        "Alpha",
        "Beta",
        "Gamma",
    }
    rows = csv_rows(owner_client.get(CSV_URL))
    assert {r["Deal"] for r in rows} == {"Alpha", "Beta", "Gamma"}


def test_another_organisations_manager_sees_none_of_it(other_org, rooms):
    manager = MembershipFactory(org=other_org, role=Role.MANAGER).user
    RoomFactory(org=other_org, owner=manager, name="Theirs")
    client = login(manager)
    response = client.get(URL)
    assert names(response) == ["Theirs"]
    for room in rooms.values():
        assert room.name not in response.content.decode()
    assert [r["Deal"] for r in csv_rows(client.get(CSV_URL))] == ["Theirs"]
    # Our people's ids are no choice there: the filter is refused and ignored.
    response = client.get(URL, {"owner": rooms["alpha"].owner_id})
    assert names(response) == ["Theirs"] and "(ignored)" in response.content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client):
    for url in (URL, CSV_URL):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_sorting_by_columns(member_client, rooms):
    assert names(member_client.get(URL, {"sort": "value"}))[-1] == "Gamma"
    assert names(member_client.get(URL, {"sort": "-value"}))[0] == "Gamma"
    assert names(member_client.get(URL, {"sort": "deal"})) == ["Alpha", "Beta", "Delta", "Gamma"]
    assert names(member_client.get(URL, {"sort": "-deal"})) == ["Gamma", "Delta", "Beta", "Alpha"]
    assert names(member_client.get(URL, {"sort": "-health"}))[0] == "Beta"
    assert names(member_client.get(URL, {"sort": "-activity"}))[0] == "Beta"
    assert names(member_client.get(URL, {"sort": "stage"}))[-1] == "Beta"  # proposal
    for key in ("owner", "close", "buyer_done", "seller_done", "overdue", "blocker"):
        for sort in (key, f"-{key}"):
            response = member_client.get(URL, {"sort": sort})
            assert response.status_code == 200 and len(names(response)) == 4


def test_default_sort_puts_the_least_healthy_first(member_client, rooms):
    ordered = names(member_client.get(URL))
    assert ordered[-1] == "Beta"


def test_filters(member_client, rooms, member):
    def f(**params):
        return set(names(member_client.get(URL, params)))

    assert f(owner=member.pk) == {"Delta"}
    assert f(stage=Stage.PROPOSAL) == {"Beta"}
    assert f(min_value=40000, max_value=60000) == {"Beta", "Delta"}  # Delta: 48,000
    assert f(min_value=60000) == {"Gamma"}
    assert f(badge="vague") == {"Gamma"}
    assert f(badge="seller_only") == {"Gamma"}
    assert "Beta" not in f(badge="approver_dark")
    assert f(health="at_risk") == {"Alpha", "Delta", "Gamma"}
    assert f(health="healthy") == {"Beta"}  # 90: all but the buyer's agreement
    assert f(health="watch") == set()
    assert f(q="glob") == {"Beta"}  # buyer name
    assert f(q="gamm") == {"Gamma"}  # deal name
    assert f(q="gamm", stage=Stage.PROPOSAL) == set()


def test_zombie_filter(member_client, rooms):
    Room.objects.filter(pk=rooms["beta"].pk).update(
        completion_changed_at=rooms["beta"].created_at.replace(year=2020)
    )
    assert names(member_client.get(URL, {"badge": "zombie"})) == ["Beta"]


def test_bad_input_is_named_and_ignored_never_a_500(member_client, rooms):
    response = member_client.get(
        URL, {"sort": "password", "min_value": "lots", "health": "great", "page": "x"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Unknown sort column" in html and "(ignored)" in html
    assert len(names(response)) == 4
    response = member_client.get(URL, {"min_value": 900, "max_value": 100})
    assert "below" in response.content.decode()


def test_bad_input_is_named_in_the_table_htmx_swaps(member_client, rooms):
    """The filters submit through htmx, which swaps only the table: the refusal comes
    with it (and a good answer has none, so a mended filter clears it)."""
    html = member_client.get(URL, {"min_value": "lots"}, **HX).content.decode()
    assert html.lstrip().startswith('<div id="dashboard-table"')
    assert "Value from: Enter a number. (ignored)" in html
    html = member_client.get(URL, {"min_value": "10"}, **HX).content.decode()
    assert "(ignored)" not in html


def test_state_is_in_the_links(member_client, rooms):
    html = member_client.get(URL, {"stage": "proposal", "sort": "-value"}).content.decode()
    # Sort links keep the filters; the export link keeps filters and sort.
    assert 'href="?stage=proposal&amp;sort=value"' in html
    assert f"{CSV_URL}?stage=proposal&amp;sort=-value" in html


def test_htmx_filter_change_answers_with_the_table_only(member_client, rooms):
    response = member_client.get(URL, {"q": "alpha"}, **HX)
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-table"')
    assert "<html" not in html and "kpis" not in html
    assert "HX-Request" in response["Vary"]  # never served from cache for the page
    assert names(response) == ["Alpha"]


def test_pagination_50_rows(member_client, org, owner):
    for i in range(53):
        RoomFactory(org=org, owner=owner, name=f"Deal {i:02}")
    first = member_client.get(URL, {"sort": "deal"})
    assert len(names(first)) == 50
    assert "Page 1 of 2" in first.content.decode()
    second = member_client.get(URL, {"sort": "deal", "page": 2})
    assert names(second) == ["Deal 50", "Deal 51", "Deal 52"]
    assert 'href="?sort=deal&amp;page=1"' in second.content.decode()


def test_csv_exports_every_filtered_row(member_client, org, owner):
    for i in range(120):
        RoomFactory(org=org, owner=owner, name=f"Deal {i:03}", value=1000 + i)
    RoomFactory(org=org, owner=owner, name="=HYPERLINK(evil)", value=5)
    response = member_client.get(CSV_URL, {"min_value": 1010, "sort": "-value"})
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = csv_rows(response)
    assert len(rows) == 110
    assert rows[0]["Deal"] == "Deal 119" and rows[-1]["Deal"] == "Deal 010"
    assert rows[0]["Health"].isdigit()
    assert rows[0]["Link"].startswith(settings.SITE_URL + "/rooms/")  # never the Host header
    every = csv_rows(member_client.get(CSV_URL))
    assert "'=HYPERLINK(evil)" in {r["Deal"] for r in every}


def test_health_hover_explains_the_score(member_client, rooms):
    html = member_client.get(URL, {"q": "beta"}).content.decode()
    title = re.search(r'class="health health-\w+" title="([^"]+)"', html).group(1)
    assert "MAP exists" in title and "+15" in title


def _build_pipeline(org, owner, n):
    for i in range(n):
        room = RoomFactory(org=org, owner=owner, name=f"Room {i}")
        b = Builder(room)
        ann = b.person("Ann")
        m = b.milestone()
        b.task(m, owner=ann, due=days(-3), status=TaskStatus.BLOCKED)
        b.task(m, owner=ann, due=days(5))


def _count_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(URL, params)
    assert response.status_code == 200
    return len(queries.captured_queries), response


def test_first_page_query_budget_is_constant(member_client, org, owner):
    from django.core.cache import cache

    _build_pipeline(org, owner, 3)
    cache.clear()
    small, response = _count_queries(member_client)
    assert len(names(response)) == 3
    _build_pipeline(org, owner, 57)  # now 60 rooms: a full page and more
    cache.clear()
    large, response = _count_queries(member_client)
    assert len(names(response)) == 50
    assert small == large <= 12
    # Warm KPIs (the shared cache), any sort or filter: fewer still.
    for params in ({"sort": "-blocker"}, {"badge": "overdue"}, {"q": "Room 1", "sort": "activity"}):
        warm, _ = _count_queries(member_client, **params)
        assert warm <= large


def test_nav_links_the_dashboard(owner_client):
    assert f'href="{URL}"' in owner_client.get(reverse("rooms:list")).content.decode()


def test_room_header_shows_the_map_signals(owner_client, room):
    b = Builder(room)
    ann = b.person("Ann Lee")
    m = b.milestone()
    task = b.task(m, "Send the security questionnaire", owner=ann, due=days(-2))
    b.view(ann)
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    strip = html[
        html.index('class="signals"') : html.index("</section>", html.index('class="signals"'))
    ]
    assert "Send the security questionnaire" in strip and "Ann Lee" in strip
    assert f'href="#task-{task.pk}"' in strip
    assert "0 of 1 done" in strip and "today" in strip
    assert "Seller-only plan" in strip and "Approver dark" in strip
    assert 'class="health health-' in strip


def test_names_from_users_are_escaped_in_the_rows(member_client, org, owner):
    """The rows are built in Python: every value a person typed is escaped."""
    room = RoomFactory(
        org=org,
        owner=owner,
        name='<script>alert("deal")</script>',
        buyer_company="<img src=x onerror=alert(1)>",
    )
    b = Builder(room)
    person = b.person('<b onmouseover="x">Ann</b>')
    m = b.milestone()
    b.task(m, owner=person, due=days(-4), title="<svg onload=alert(2)>")
    html = member_client.get(URL).content.decode()
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "<svg onload" not in html and '<b onmouseover="x">' not in html
    assert "&lt;script&gt;alert(&quot;deal&quot;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
