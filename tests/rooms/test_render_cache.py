"""Room pages rendered once per revision and served to many (rooms/render_cache.py):
who shares a render and who never does, what makes one stale, and the CSRF token and
view log that stay per request."""

import datetime
import re
import time

import pytest
from django.core.cache import cache, caches
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils.timezone import now

from plans.models import Task
from plans.services import task_update
from rooms import render_cache
from rooms.activity_log import activity_record_many
from rooms.actors import Actor
from stakeholders import links
from stakeholders.models import AccessLink, Scope, Side, Stakeholder, Track, ViewEvent
from stakeholders.services import stakeholder_update
from tests.conftest import PASSWORD, buyer_client
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
TOKENS = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture
def plan(room):
    return PlanFactory(room=room, org=room.org)


@pytest.fixture
def tracks(plan):
    """A legal and a business milestone, a task in each."""
    legal = MilestoneFactory(plan=plan, title="Contract signed", track=Track.LEGAL, order=0)
    business = MilestoneFactory(plan=plan, title="Business case", track=Track.BUSINESS, order=1)
    return {
        "legal": TaskFactory(milestone=legal, title="Redline the MSA"),
        "business": TaskFactory(milestone=business, title="Present the ROI model"),
    }


def room_url(room):
    return reverse("plans:room", args=[room.pk])


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def without_tokens(html):
    return re.sub(r'(csrfmiddlewaretoken" value="|"X-CSRFToken": ")[^"]+', r"\1", html)


def later(monkeypatch, seconds):
    """The clock ``seconds`` on (the cache's expiry reads the same clock)."""
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + seconds)


# --- sellers ------------------------------------------------------------------------------------


def test_sellers_of_the_organisation_share_one_render_per_revision(
    owner_client, member_client, room, tracks
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    first = page(owner_client, room_url(room))
    with CaptureQueriesContext(connection) as queries:
        second = page(member_client, room_url(room))
    # The teammate gets the same body, and nothing of the plan is read for them.
    assert "Redline the MSA" in second
    assert not [q for q in queries.captured_queries if 'FROM "plans_task"' in q["sql"]]
    # The frame names who is signed in, and their live ticket is theirs; a manager (not
    # a rep) is offered to save the plan as a template.
    main = re.compile(r'<main.*<div id="live"', re.S)
    action = re.compile(r'<a class="button secondary" href="[^"]*/save-as-template/">[^<]*</a>')
    assert not action.search(first) and action.search(second)
    assert without_tokens(main.search(first)[0]) == without_tokens(
        action.sub("", main.search(second)[0])
    )


def test_a_change_through_a_service_is_on_the_next_view(owner, owner_client, room, tracks):
    page(owner_client, room_url(room))
    task = tracks["legal"]
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"title": "Countersign the MSA"},
    )
    assert "Countersign the MSA" in page(owner_client, room_url(room))


def test_an_edit_on_the_page_is_on_the_next_view_of_every_seller(
    owner_client, member_client, room, tracks
):
    page(member_client, room_url(room))
    task = tracks["business"]
    response = owner_client.post(
        reverse("plans:task_save", args=[room.pk, task.pk]),
        {"_field": "title", "title": "Send the ROI model", "version": task.version},
        **HX,
    )
    assert response.status_code == 200
    assert "Send the ROI model" in page(member_client, room_url(room))


def test_an_entry_logged_without_a_revision_is_on_the_next_view(
    owner_client, room, tracks, django_capture_on_commit_callbacks
):
    person = StakeholderFactory(room=room, name="Maria Lopez")
    assert "link · access" not in page(owner_client, room_url(room))
    with django_capture_on_commit_callbacks(execute=True):
        links.link_issue(actor=Actor(), room=room, stakeholder=person)  # no revision moves
    assert "link · access" in page(owner_client, room_url(room))  # the stakeholder map


def test_each_response_carries_a_token_of_its_own_that_works(member, owner, room, tracks):
    task = tracks["legal"]
    clients = []
    for user in (owner, member):
        client = Client(enforce_csrf_checks=True)
        assert client.login(email=user.email, password=PASSWORD)
        clients.append(client)
    bodies = [page(client, room_url(room)) for client in clients]
    # The body's forms carry one token, the frame's (sign out) another; none is shared.
    tokens = [set(TOKENS.findall(html)) for html in bodies]
    assert [len(t) for t in tokens] == [2, 2] and not tokens[0] & tokens[1]
    # The kept body's own placeholder never reaches anyone.
    room.refresh_from_db()
    kept = caches["fragments"].get(render_cache._render_key(room, "seller"))
    assert kept["holes"]["csrf_token"] not in bodies[0] + bodies[1]
    for client, theirs in zip(clients, tokens, strict=True):
        for token in theirs:
            task.refresh_from_db()
            response = client.post(
                reverse("plans:task_save", args=[room.pk, task.pk]),
                {
                    "_field": "notes",
                    "notes": f"Checked with {token[:6]}",
                    "version": task.version,
                    "csrfmiddlewaretoken": token,
                },
                **HX,
            )
            assert response.status_code == 200
    other = next(iter(tokens[1]))  # a token is the page's own browser's, no one else's
    response = clients[0].post(
        reverse("plans:task_save", args=[room.pk, task.pk]),
        {"_field": "notes", "notes": "x", "version": 1, "csrfmiddlewaretoken": other},
        **HX,
    )
    assert response.status_code == 403


def test_another_organisation_never_gets_the_render(outsider_client, owner_client, room, tracks):
    page(owner_client, room_url(room))
    assert outsider_client.get(room_url(room)).status_code == 404


def test_a_render_is_redone_after_a_minute(owner_client, room, tracks, monkeypatch):
    page(owner_client, room_url(room))
    # A write that bypasses the services moves no revision: the page may be a minute
    # old, never more.
    Task.objects.filter(pk=tracks["legal"].pk).update(title="Renamed behind its back")
    assert "Renamed behind its back" not in page(owner_client, room_url(room))
    later(monkeypatch, render_cache.FRESH_FOR + 1)
    assert "Renamed behind its back" in page(owner_client, room_url(room))


def test_a_re_plan_offer_is_not_kept_for_the_next_view(owner_client, room, tracks):
    from plans.models import Milestone

    Milestone.objects.filter(plan=tracks["legal"].milestone.plan).update(
        target_date=room.target_close_date
    )
    previous = room.target_close_date.replace(day=1)
    offered = page(owner_client, f"{room_url(room)}?replan_from={previous:%Y-%m-%d}")
    plain = page(owner_client, room_url(room))
    assert 'name="previous_close_date"' in offered
    assert 'name="previous_close_date"' not in plain


# --- the mechanism ------------------------------------------------------------------------------


class Renders:
    def __init__(self):
        self.count = 0

    def __call__(self, holes):
        self.count += 1
        token = holes["csrf_token"]
        return f'<form><input name="csrfmiddlewaretoken" value="{token}"></form>#{self.count}'


def fake_request():
    from django.test import RequestFactory

    return RequestFactory().get("/")


def test_a_stale_body_is_served_while_another_request_renews_it(room, monkeypatch):
    render = Renders()
    first = render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 1 and first.endswith("#1")
    later(monkeypatch, render_cache.FRESH_FOR + 1)
    key = render_cache._render_key(room, "seller")
    caches["fragments"].add(f"{key}:renewing", 1, 5)  # another request is rendering it
    served = render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 1 and served.endswith("#1")
    caches["fragments"].delete(f"{key}:renewing")
    served = render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 2 and served.endswith("#2")


def test_audiences_and_revisions_never_share_a_body(room):
    render = Renders()
    render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    render_cache.room_render(fake_request(), room=room, audience="buyer:x", render=render)
    room.revision += 1
    render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 3
    render_cache.forget([room.pk])
    render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 4


def test_a_body_of_its_own_is_not_kept(room):
    render = Renders()
    for _ in range(2):
        render_cache.room_render(
            fake_request(), room=room, audience="seller", render=render, shared=False
        )
    assert render.count == 2
    render_cache.room_render(fake_request(), room=room, audience="seller", render=render)
    assert render.count == 3


# --- buyers -------------------------------------------------------------------------------------


def test_buyers_with_different_scopes_never_see_each_others_render(room, tracks):
    lawyer = StakeholderFactory(room=room, name="Lee Law", scope=Scope.TRACK, track=Track.LEGAL)
    champion = StakeholderFactory(
        room=room, name="Bo Business", scope=Scope.TRACK, track=Track.BUSINESS
    )
    mine = TaskFactory(milestone=tracks["legal"].milestone, owner=champion, title="Sign as CFO")
    lawyer_client, champion_client = buyer_client(lawyer), buyer_client(champion)
    for _ in range(2):  # the second view of each is a kept one
        seen_by_lawyer = page(lawyer_client, reverse("buyer:room"))
        seen_by_champion = page(champion_client, reverse("buyer:room"))
        assert "Redline the MSA" in seen_by_lawyer and "Present the ROI model" not in seen_by_lawyer
        assert "Present the ROI model" in seen_by_champion
        assert "Redline the MSA" not in seen_by_champion
        assert mine.title in seen_by_champion  # their own task in another track
        assert "Lee Law" in seen_by_lawyer and "Bo Business" in seen_by_champion


def test_two_buyers_alike_still_get_their_own_page(room, tracks):
    first = StakeholderFactory(room=room, name="Ana One", email="ana@acme.example")
    second = StakeholderFactory(room=room, name="Ben Two", email="ben@acme.example")
    page(buyer_client(first), reverse("buyer:room"))
    html = page(buyer_client(second), reverse("buyer:room"))
    assert "This page is for Ben Two only" in html and "for Ana One only" not in html


def test_a_narrowed_scope_applies_to_the_next_view(
    owner, room, tracks, django_capture_on_commit_callbacks
):
    person = StakeholderFactory(room=room, track=Track.BUSINESS)
    client = buyer_client(person)
    assert "Redline the MSA" in page(client, reverse("buyer:room"))
    with django_capture_on_commit_callbacks(execute=True):
        stakeholder_update(
            actor=Actor(user=owner),
            room=room,
            stakeholder_id=person.pk,
            base_version=person.version,
            changes={"scope": Scope.TRACK},
        )
    # Their page and the link a page read kept (with the old scope) are both stale: the
    # room's revision moved.
    assert "Redline the MSA" not in page(client, reverse("buyer:room"))


def test_the_edit_view_of_a_task_is_not_kept(room, tracks):
    person = StakeholderFactory(room=room, side=Side.BUYER)
    task = tracks["business"]
    Task.objects.filter(pk=task.pk).update(owner=person)
    client = buyer_client(person)
    opened = page(client, f"{reverse('buyer:room')}?edit={task.pk}")
    assert f'id="edit-{task.pk}" open' in opened
    assert f'id="edit-{task.pk}" open' not in page(client, reverse("buyer:room"))


def test_a_buyer_reloading_is_logged_once_a_minute(room, tracks, monkeypatch):
    person = StakeholderFactory(room=room)
    client = buyer_client(person)
    rooms_seen = ViewEvent.objects.filter(stakeholder=person, kind=ViewEvent.Kind.ROOM)
    for _ in range(3):
        page(client, reverse("buyer:room"))
    assert rooms_seen.count() == 1
    # A minute later (Redis keeps its own clock: the minute's mark goes as it would).
    later(monkeypatch, links.ROOM_VIEW_EVERY + 1)
    link = AccessLink.objects.get(stakeholder=person)
    cache.delete(f"room-viewed:{link.pk}")
    page(client, reverse("buyer:room"))
    assert rooms_seen.count() == 2
    engagement = links.engagement_for(room)[person.pk]
    assert engagement["visits"] == 1 and engagement["first_opened"] < engagement["last_seen"]


def test_the_seller_map_shows_a_buyers_first_look_at_once(
    owner_client, room, tracks, django_capture_on_commit_callbacks
):
    person = StakeholderFactory(room=room, name="Maria Lopez")
    assert "never opened" in page(owner_client, room_url(room))
    with django_capture_on_commit_callbacks(execute=True):
        buyer_client(person)  # their first look: an entry in the log
    html = page(owner_client, room_url(room))
    assert "seen" in html and Stakeholder.objects.get(pk=person.pk).name in html
    assert "never opened" not in html


def test_each_buyer_page_carries_their_own_live_ticket(room, tracks):
    person = StakeholderFactory(room=room)
    first, second = buyer_client(person), buyer_client(person)  # the newer link revokes
    for client in (first, second):
        response = client.get(reverse("buyer:room"))
        if response.status_code != 200:  # the older link was revoked by the newer one
            continue
        ticket = re.search(r'data-live-ticket="([^"]+)"', response.content.decode())[1]
        poll = client.get(reverse("buyer:live"), {"rev": 0}, HTTP_X_LIVE_TICKET=ticket)
        assert poll.status_code == 204  # accepted: nothing new since the page
        forged = client.get(reverse("buyer:live"), {"rev": 0}, HTTP_X_LIVE_TICKET=ticket + "x")
        assert forged.status_code != 204


def test_a_message_shows_once_and_is_not_kept(room, tracks):
    person = StakeholderFactory(room=room, track=Track.BUSINESS)
    client = buyer_client(person)
    page(client, reverse("buyer:room"))
    milestone = tracks["business"].milestone
    response = client.post(reverse("buyer:task_add", args=[milestone.pk]), {"title": "Call IT"})
    assert response.status_code == 302
    assert "Added “Call IT”." in page(client, reverse("buyer:room"))
    assert "Added “Call IT”." not in page(client, reverse("buyer:room"))


def test_a_link_kept_by_a_page_read_still_expires_on_time(room, tracks, monkeypatch):
    from django.utils import timezone

    person = StakeholderFactory(room=room)
    client = buyer_client(person)
    page(client, reverse("buyer:room"))  # the link is kept for the next reads
    expires = AccessLink.objects.get(stakeholder=person).expires_at
    monkeypatch.setattr(timezone, "now", lambda: expires + datetime.timedelta(seconds=1))
    assert client.get(reverse("buyer:room")).status_code == 410


def test_entries_written_in_bulk_drop_the_kept_render_too(
    owner_client, room, tracks, django_capture_on_commit_callbacks
):
    """``activity_record_many`` (the overdue sweep's way to the log) makes kept renders
    stale like one entry does, even when no revision moved: the room's recent activity
    shows the entry on the next view."""
    assert "Written in bulk" not in page(owner_client, room_url(room))
    with django_capture_on_commit_callbacks(execute=True):
        written = activity_record_many(
            {
                "org": "%s",
                "room": "%s",
                "created_at": "%s",
                "actor_kind": "'system'",
                "actor_label": "'mapsite'",
                "verb": "'created'",
                "target_type": "'task'",
                "target_id": "''",
                "target_label": "'Written in bulk'",
                "actor_ref": "''",
                "changes": "'{}'",
                "room_revision": "%s",
            },
            "",
            [
                room.org_id.hex,
                room.pk.hex,
                connection.ops.adapt_datetimefield_value(now()),
                room.revision,
            ],
            room_ids=[room.pk],
        )
    assert written == 1
    assert "Written in bulk" in page(owner_client, room_url(room))


def test_entries_written_in_bulk_must_name_every_field_the_log_needs(room):
    with pytest.raises(ValueError, match="changes, .*verb"):
        activity_record_many({"org": "%s", "room": "%s"}, "", [room.org_id, room.pk], room_ids=[])
