"""The seller's side of buyer access: issuing, emailing and revoking personal links,
choosing what each buyer sees, and reading their engagement."""

import datetime
import hashlib
import re

import pytest
from django.apps import apps
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rooms.actors import Actor
from rooms.models import ActivityEvent, ActorKind
from stakeholders import links
from stakeholders.models import AccessLink, Scope, Side, Track, ViewEvent
from tests.conftest import login
from tests.factories import RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
TOKEN_IN_URL = re.compile(r"/b/([A-Za-z0-9_-]+)/")


@pytest.fixture(autouse=True)
def _own_cache(settings, tmp_path):
    """A cache of this test's own: guessing counters never leak between tests."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "mapsite.cache.LockingFileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        },
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def buyer(room):
    return StakeholderFactory(
        room=room, name="Maria Lopez", email="maria@acme.example", track=Track.BUSINESS
    )


@pytest.fixture
def seller_person(room):
    return StakeholderFactory(room=room, side=Side.SELLER, name="Sam Seller")


def access_url(person):
    return reverse("stakeholders:access", args=[person.room_id, person.pk])


def issue_url(person):
    return reverse("stakeholders:link_issue", args=[person.room_id, person.pk])


def revoke_url(person, link):
    return reverse("stakeholders:link_revoke", args=[person.room_id, person.pk, link.pk])


def scope_url(person):
    return reverse("stakeholders:scope", args=[person.room_id, person.pk])


def issue(person, *, by=None, days=None, revoke_others=False):
    return links.link_issue(
        actor=Actor(user=by),
        room=person.room,
        stakeholder=person,
        days=days,
        revoke_others=revoke_others,
    )


def post_issue(client, person, **data):
    payload = {"days": 90, "note": ""} | data
    return client.post(issue_url(person), payload)


def token_from(html):
    match = re.search(r'id="new-link" type="text" value="[^"]*/b/([A-Za-z0-9_-]+)/"', html)
    assert match, "the new link is not on the page"
    return match.group(1)


def open_as_buyer(token, client=None):
    client = client or Client()
    response = client.get(reverse("buyer:open", args=[token]))
    assert response.status_code == 303
    return client


def every_stored_value():
    """Every column of every row of every table the project owns, as text."""
    for model in apps.get_models():
        for row in model.objects.all():
            for field in model._meta.concrete_fields:
                yield f"{model.__name__}.{field.name}", str(field.value_from_object(row))


# --- issuing -------------------------------------------------------------------------------


def test_issued_token_has_at_least_128_bits_and_is_shown_once(owner_client, buyer):
    response = post_issue(owner_client, buyer)
    assert response.status_code == 200
    token = token_from(response.content.decode())
    # token_urlsafe(32): 43 characters of a 64-letter alphabet = 256 bits.
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", token)
    link = AccessLink.objects.get(stakeholder=buyer)
    assert link.token_hash == hashlib.sha256(token.encode()).hexdigest()
    later = owner_client.get(access_url(buyer)).content.decode()
    assert token not in later
    assert "New personal link" not in later


def test_issued_tokens_are_all_different(buyer):
    tokens = {issue(buyer)[1] for _ in range(20)}
    assert len(tokens) == 20


def test_raw_token_is_in_no_database_column(owner_client, buyer):
    response = post_issue(owner_client, buyer, send_email="on", note="Here you go")
    token = token_from(response.content.decode())
    open_as_buyer(token)
    assert AccessLink.objects.count() == 1 and ActivityEvent.objects.exists()
    leaks = [where for where, value in every_stored_value() if token in value]
    assert leaks == []


def test_raw_token_is_not_on_the_access_page_after_a_later_visit(owner_client, buyer):
    token = token_from(post_issue(owner_client, buyer).content.decode())
    html = owner_client.get(access_url(buyer)).content.decode()
    assert token not in html
    assert hashlib.sha256(token.encode()).hexdigest() not in html


def test_access_page_is_not_cached_and_sends_no_referrer(owner_client, buyer):
    response = post_issue(owner_client, buyer)
    assert response["Cache-Control"] == "no-store"
    assert response["Referrer-Policy"] == "no-referrer"


def test_issuing_is_recorded_in_the_activity_log(owner_client, owner, buyer):
    post_issue(owner_client, buyer)
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.LINK_ISSUED)
    assert event.actor_user == owner and event.target_id == str(buyer.pk)


def test_issue_link_is_post_only(owner_client, buyer):
    assert owner_client.get(issue_url(buyer)).status_code == 405
    assert not AccessLink.objects.exists()


# --- emailing ------------------------------------------------------------------------------


def test_link_can_be_emailed_with_a_note(owner_client, owner, buyer, room):
    response = post_issue(owner_client, buyer, send_email="on", note="Looking forward to it.")
    assert response.status_code == 200
    assert "emailed to maria@acme.example" in response.content.decode()
    token = token_from(response.content.decode())
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["maria@acme.example"]
    assert message.reply_to == [owner.email]
    assert "Looking forward to it." in message.body
    assert links.link_url(token) in message.body
    assert room.buyer_company in message.subject


def test_link_is_not_emailed_unless_asked(owner_client, buyer):
    post_issue(owner_client, buyer)
    assert mail.outbox == []
    assert AccessLink.objects.filter(stakeholder=buyer).count() == 1


def test_note_with_markup_stays_plain_text_in_the_email(owner_client, buyer):
    note = '<script>alert(1)</script> <a href="https://evil.example">click</a>'
    post_issue(owner_client, buyer, send_email="on", note=note)
    message = mail.outbox[0]
    assert note in message.body  # plain text: shown literally, never interpreted
    assert message.content_subtype == "plain"
    ((html, _),) = message.alternatives  # the HTML part shows it escaped
    assert "<script" not in html and 'href="https://evil.example"' not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_names_with_markup_stay_plain_text_in_the_email(owner_client, room):
    person = StakeholderFactory(room=room, name="<script>alert(1)</script>")
    post_issue(owner_client, person, send_email="on")
    message = mail.outbox[0]
    assert "Hello <script>alert(1)</script>," in message.body
    ((html, _),) = message.alternatives
    assert "<script" not in html and "Hello &lt;script&gt;alert(1)&lt;/script&gt;," in html


def test_emailing_to_a_person_without_address_is_a_clear_error(owner_client, room):
    person = StakeholderFactory(room=room, name="Ann Lee", email="")
    response = post_issue(owner_client, person, send_email="on")
    assert response.status_code == 422
    assert "Ann Lee has no email address on the map." in response.content.decode()
    assert mail.outbox == []
    assert TOKEN_IN_URL.search(response.content.decode()) is None


def test_emailing_to_a_person_without_address_leaves_no_link_and_keeps_earlier_ones(
    owner_client, room
):
    person = StakeholderFactory(room=room, name="Ann Lee", email="")
    earlier, _ = issue(person)
    response = post_issue(owner_client, person, send_email="on", revoke_others="on")
    assert response.status_code == 422
    assert list(AccessLink.objects.filter(stakeholder=person)) == [earlier]
    earlier.refresh_from_db()
    assert earlier.state == "active"


# --- expiry and revocation ------------------------------------------------------------------


def test_default_expiry_is_90_days(owner_client, buyer, settings):
    assert settings.BUYER_LINK_TTL_DAYS == 90
    before = timezone.now()
    post_issue(owner_client, buyer)
    link = AccessLink.objects.get(stakeholder=buyer)
    assert before + datetime.timedelta(days=90) <= link.expires_at
    assert link.expires_at <= timezone.now() + datetime.timedelta(days=90)


def test_service_default_expiry_follows_the_setting(buyer, settings):
    settings.BUYER_LINK_TTL_DAYS = 30
    link, _ = issue(buyer)
    remaining = link.expires_at - timezone.now()
    assert datetime.timedelta(days=29, hours=23) < remaining <= datetime.timedelta(days=30)


def test_access_page_offers_90_days_by_default(owner_client, buyer):
    html = owner_client.get(access_url(buyer)).content.decode()
    assert re.search(r'name="days"[^>]*value="90"|value="90"[^>]*name="days"', html)


def test_custom_expiry_in_days(owner_client, buyer):
    post_issue(owner_client, buyer, days=7)
    link = AccessLink.objects.get(stakeholder=buyer)
    remaining = link.expires_at - timezone.now()
    assert datetime.timedelta(days=6, hours=23) < remaining <= datetime.timedelta(days=7)


@pytest.mark.parametrize("days", [0, -1, 366, 100000, "soon", ""])
def test_out_of_range_expiry_is_refused(owner_client, buyer, days):
    response = post_issue(owner_client, buyer, days=days)
    assert response.status_code == 422
    assert not AccessLink.objects.exists()


@pytest.mark.parametrize("days", [0, 366])
def test_service_refuses_out_of_range_expiry(buyer, days):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        issue(buyer, days=days)
    assert not AccessLink.objects.exists()


def test_issuing_can_revoke_earlier_links(owner_client, buyer):
    first, _ = issue(buyer)
    second, _ = issue(buyer)
    post_issue(owner_client, buyer, revoke_others="on")
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.state == second.state == "revoked"
    assert AccessLink.objects.filter(stakeholder=buyer).active().count() == 1


def test_issuing_without_revoke_keeps_earlier_links(owner_client, buyer):
    first, _ = issue(buyer)
    post_issue(owner_client, buyer)
    first.refresh_from_db()
    assert first.state == "active"
    assert AccessLink.objects.filter(stakeholder=buyer).active().count() == 2


def test_revoking_earlier_links_leaves_other_people_alone(owner_client, buyer, room):
    other = StakeholderFactory(room=room)
    theirs, _ = issue(other)
    post_issue(owner_client, buyer, revoke_others="on")
    theirs.refresh_from_db()
    assert theirs.state == "active"


def test_revoke_a_link(owner_client, owner, buyer):
    link, token = issue(buyer)
    response = owner_client.post(revoke_url(buyer, link), follow=True)
    assert response.status_code == 200
    assert "Link revoked" in response.content.decode()
    link.refresh_from_db()
    assert link.state == "revoked"
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.LINK_REVOKED)
    assert event.actor_user == owner and event.target_id == str(buyer.pk)


def test_revoking_twice_keeps_the_first_time(owner_client, buyer):
    link, _ = issue(buyer)
    owner_client.post(revoke_url(buyer, link))
    link.refresh_from_db()
    first = link.revoked_at
    assert owner_client.post(revoke_url(buyer, link)).status_code == 302
    link.refresh_from_db()
    assert link.revoked_at == first
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.LINK_REVOKED).count() == 1


def test_revoke_is_post_only(owner_client, buyer):
    link, _ = issue(buyer)
    assert owner_client.get(revoke_url(buyer, link)).status_code == 405
    link.refresh_from_db()
    assert link.state == "active"


def test_link_states_are_shown(owner_client, buyer):
    active, _ = issue(buyer)
    expired, _ = issue(buyer)
    revoked, _ = issue(buyer)
    used, token = issue(buyer)
    AccessLink.objects.filter(pk=expired.pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    AccessLink.objects.filter(pk=revoked.pk).update(revoked_at=timezone.now())
    open_as_buyer(token)
    html = owner_client.get(access_url(buyer)).content.decode()
    rows = re.findall(r"<tr>.*?</tr>", html, re.S)[1:]  # skip the header row
    assert len(rows) == 4
    states = [re.search(r'<span class="badge[^"]*">(\w+)</span>', r).group(1) for r in rows]
    assert sorted(states) == ["Active", "Active", "Expired", "Revoked"]
    for link in (active, used):
        assert f"{link.expires_at:%-d %b %Y}" in html
    # Only active links can be revoked.
    assert html.count(">Revoke</button>") == 2
    assert revoke_url(buyer, expired) not in html and revoke_url(buyer, revoked) not in html
    # Last used: the opened one shows when; the others say never.
    assert html.count('<span class="muted">never</span>') == 3
    assert re.search(r"\d+\xa0minutes? ago|0\xa0minutes ago", html)


def test_opening_a_link_marks_it_last_used(buyer):
    link, token = issue(buyer)
    assert link.last_used_at is None
    open_as_buyer(token)
    link.refresh_from_db()
    assert link.last_used_at is not None


# --- who gets links -------------------------------------------------------------------------


def test_no_link_for_a_seller_side_person(owner_client, seller_person):
    response = post_issue(owner_client, seller_person)
    assert response.status_code == 422
    assert not AccessLink.objects.exists()
    with pytest.raises(Exception, match="your team signs in"):
        issue(seller_person)


def test_seller_side_person_page_says_they_sign_in(owner_client, seller_person):
    html = owner_client.get(access_url(seller_person)).content.decode()
    assert "your team signs in with their own accounts" in html
    assert "Issue link" not in html


def test_stakeholder_map_says_sellers_sign_in(owner_client, room, seller_person):
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    row = re.search(rf'id="stakeholder-{seller_person.pk}".*?</form>', html, re.S).group(0)
    assert "signs in" in row and "never opened" not in row


def test_no_link_for_a_person_of_another_room(owner, buyer, org):
    other_room = RoomFactory(org=org, owner=owner)
    with pytest.raises(Exception, match="Pick a person from this room"):
        links.link_issue(actor=Actor(user=owner), room=other_room, stakeholder=buyer)
    assert not AccessLink.objects.exists()


# --- scope -------------------------------------------------------------------------------------


def test_scope_can_be_narrowed_to_a_track(owner_client, buyer):
    response = owner_client.post(
        scope_url(buyer), {"scope": Scope.TRACK, "track": Track.LEGAL, "version": buyer.version}
    )
    assert response.status_code == 302
    buyer.refresh_from_db()
    assert (buyer.scope, buyer.track) == (Scope.TRACK, Track.LEGAL)
    assert buyer.version == 2
    assert ActivityEvent.objects.filter(
        verb=ActivityEvent.Verb.UPDATED, target_id=str(buyer.pk)
    ).exists()


def test_scope_can_be_widened_back_to_the_whole_plan(owner_client, room):
    person = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.LEGAL)
    owner_client.post(
        scope_url(person), {"scope": Scope.WHOLE_PLAN, "track": Track.LEGAL, "version": 1}
    )
    person.refresh_from_db()
    assert person.scope == Scope.WHOLE_PLAN


def test_scope_page_shows_the_current_choice(owner_client, room):
    person = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.SECURITY)
    html = owner_client.get(access_url(person)).content.decode()
    assert 'value="track" checked' in html
    assert 'value="security" selected' in html


def test_invalid_scope_is_refused(owner_client, buyer):
    response = owner_client.post(
        scope_url(buyer), {"scope": "everything", "track": Track.LEGAL, "version": 1}
    )
    assert response.status_code == 422
    buyer.refresh_from_db()
    assert buyer.scope == Scope.WHOLE_PLAN and buyer.version == 1


def test_scope_save_is_post_only(owner_client, buyer):
    assert owner_client.get(scope_url(buyer)).status_code == 405


# --- engagement --------------------------------------------------------------------------


def backdate_views(person, minutes):
    for event in ViewEvent.objects.filter(stakeholder=person):
        event.created_at -= datetime.timedelta(minutes=minutes)
        event.save(update_fields=["created_at"])


def test_never_opened_is_shown_on_the_access_page(owner_client, buyer):
    issue(buyer)
    html = owner_client.get(access_url(buyer)).content.decode()
    assert "never opened" in html


def test_never_opened_badge_on_the_stakeholder_map(owner_client, room, buyer):
    seen = StakeholderFactory(room=room, name="Ola Seen")
    _, token = issue(seen)
    open_as_buyer(token)
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    rows = {
        person: re.search(rf'id="stakeholder-{person.pk}".*?</form>', html, re.S).group(0)
        for person in (buyer, seen)
    }
    assert "never opened" in rows[buyer]
    assert "never opened" not in rows[seen] and "seen " in rows[seen]


def test_first_opened_last_seen_and_visits(owner_client, buyer):
    _, token = issue(buyer)
    client = open_as_buyer(token)
    client.get(reverse("buyer:room"))
    client.get(reverse("buyer:room"))
    html = owner_client.get(access_url(buyer)).content.decode()
    assert "never opened" not in html
    assert "<dt>First opened</dt>" in html and "<dt>Last seen</dt>" in html
    assert "<dt>Visits</dt><dd>1</dd>" in html  # three views, one visit
    assert "opened their link" in html and "viewed the room" in html


def test_a_view_after_30_quiet_minutes_starts_a_new_visit(owner_client, buyer):
    _, token = issue(buyer)
    client = open_as_buyer(token)
    backdate_views(buyer, 31)
    client.get(reverse("buyer:room"))
    assert links.engagement_for(buyer.room)[buyer.pk]["visits"] == 2
    html = owner_client.get(access_url(buyer)).content.decode()
    assert "<dt>Visits</dt><dd>2</dd>" in html


def test_views_within_30_minutes_are_one_visit(buyer):
    _, token = issue(buyer)
    client = open_as_buyer(token)
    backdate_views(buyer, 29)
    client.get(reverse("buyer:room"))
    row = links.engagement_for(buyer.room)[buyer.pk]
    assert row["visits"] == 1 and row["views"] == 2


def test_first_opened_and_last_seen_are_the_earliest_and_latest_views(buyer):
    _, token = issue(buyer)
    client = open_as_buyer(token)
    backdate_views(buyer, 60 * 24)
    client.get(reverse("buyer:room"))
    row = links.engagement_for(buyer.room)[buyer.pk]
    assert timezone.now() - row["first_opened"] > datetime.timedelta(hours=23)
    assert timezone.now() - row["last_seen"] < datetime.timedelta(minutes=1)


def test_thread_reads_are_listed_with_the_task(owner_client, room, buyer):
    from tests.factories import MilestoneFactory, PlanFactory, TaskFactory

    plan = PlanFactory(room=room, org=room.org)
    task = TaskFactory(milestone=MilestoneFactory(plan=plan), title="Review the MSA")
    _, token = issue(buyer)
    client = open_as_buyer(token)
    assert client.post(reverse("buyer:task_viewed", args=[task.pk])).status_code == 204
    html = owner_client.get(access_url(buyer)).content.decode()
    assert "read the thread of “Review the MSA”" in html


def test_engagement_is_per_room(owner, buyer, org):
    other_room = RoomFactory(org=org, owner=owner)
    elsewhere = StakeholderFactory(room=other_room)
    _, token = issue(elsewhere)
    open_as_buyer(token)
    assert links.engagement_for(buyer.room) == {}


def test_seller_opening_a_buyer_link_is_not_counted(owner_client, buyer):
    _, token = issue(buyer)
    response = owner_client.get(reverse("buyer:open", args=[token]))
    assert response.status_code == 303
    assert owner_client.get(reverse("buyer:room")).status_code == 200
    assert not ViewEvent.objects.exists()


def test_seller_browsing_the_buyer_room_is_not_counted(member_client, buyer):
    _, token = issue(buyer)
    open_as_buyer(token, member_client)
    member_client.get(reverse("buyer:room"))
    assert not ViewEvent.objects.exists()
    html = login(buyer.room.owner).get(access_url(buyer)).content.decode()
    assert "never opened" in html


def test_seller_reading_a_thread_through_a_buyer_link_is_not_counted(owner_client, room, buyer):
    from tests.factories import MilestoneFactory, PlanFactory, TaskFactory

    task = TaskFactory(milestone=MilestoneFactory(plan=PlanFactory(room=room, org=room.org)))
    _, token = issue(buyer)
    open_as_buyer(token, owner_client)
    assert owner_client.post(reverse("buyer:task_viewed", args=[task.pk])).status_code == 204
    assert not ViewEvent.objects.exists()


def test_seller_of_another_org_opening_the_link_counts_as_a_view(outsider_client, buyer):
    # Only the room's own organisation are "sellers"; anybody else is a visitor.
    _, token = issue(buyer)
    open_as_buyer(token, outsider_client)
    assert ViewEvent.objects.filter(stakeholder=buyer).count() == 1


# --- tenancy ---------------------------------------------------------------------------------


def test_outsider_gets_404_on_the_access_page(outsider_client, buyer):
    assert outsider_client.get(access_url(buyer)).status_code == 404


def test_outsider_cannot_issue_a_link(outsider_client, buyer):
    assert post_issue(outsider_client, buyer, send_email="on").status_code == 404
    assert not AccessLink.objects.exists() and mail.outbox == []


def test_outsider_cannot_revoke_a_link(outsider_client, buyer):
    link, _ = issue(buyer)
    assert outsider_client.post(revoke_url(buyer, link)).status_code == 404
    link.refresh_from_db()
    assert link.state == "active"


def test_outsider_cannot_change_scope(outsider_client, buyer):
    response = outsider_client.post(
        scope_url(buyer), {"scope": Scope.TRACK, "track": Track.LEGAL, "version": 1}
    )
    assert response.status_code == 404
    buyer.refresh_from_db()
    assert buyer.scope == Scope.WHOLE_PLAN


def test_outsider_with_their_own_room_cannot_reach_ours(outsider, outsider_client, buyer):
    theirs = RoomFactory(org=outsider.memberships.first().org, owner=outsider)
    # Their room id, our person: still nothing.
    url = reverse("stakeholders:access", args=[theirs.pk, buyer.pk])
    assert outsider_client.get(url).status_code == 404


def test_links_of_another_room_cannot_be_revoked_by_id(owner_client, owner, buyer, org):
    other_room = RoomFactory(org=org, owner=owner)
    elsewhere = StakeholderFactory(room=other_room)
    theirs, _ = issue(elsewhere)
    assert owner_client.post(revoke_url(buyer, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "active"


def test_links_of_another_org_cannot_be_revoked_by_id(owner_client, buyer, other_org):
    foreign = StakeholderFactory(room=RoomFactory(org=other_org))
    theirs, _ = issue(foreign)
    assert owner_client.post(revoke_url(buyer, theirs)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.state == "active"


def test_signed_out_visitor_is_sent_to_sign_in(buyer):
    response = Client().get(access_url(buyer))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_buyer_session_does_not_open_seller_pages(buyer):
    _, token = issue(buyer)
    client = open_as_buyer(token)
    for url in (access_url(buyer), reverse("plans:room", args=[buyer.room_id])):
        response = client.get(url)
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert post_issue(client, buyer).status_code == 302
    assert AccessLink.objects.count() == 1


def test_link_refresh_is_recorded_with_the_stakeholder_as_actor(buyer):
    link, token = issue(buyer)
    AccessLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    assert links.link_refresh_request(token=token, email=buyer.email)
    event = ActivityEvent.objects.filter(verb=ActivityEvent.Verb.LINK_ISSUED).first()
    assert event.actor_kind == ActorKind.STAKEHOLDER and event.actor_ref == str(buyer.pk)


def test_a_link_is_revoked_only_through_its_own_persons_page(owner_client, room, buyer):
    other = StakeholderFactory(room=room, name="Ann Lee")
    link, _ = issue(other)
    response = owner_client.post(revoke_url(buyer, link))
    assert response.status_code == 404
    link.refresh_from_db()
    assert link.state == "active"


def test_a_seller_trying_a_buyer_link_does_not_mark_it_used(owner_client, room, buyer):
    link, token = issue(buyer)
    owner_client.get(reverse("buyer:open", args=[token]))
    link.refresh_from_db()
    assert link.last_used_at is None
