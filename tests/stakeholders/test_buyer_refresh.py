"""A buyer whose link expired asks for a fresh one on the expired page: it is emailed
only to the stakeholder's own registered address, and the page answers the same either
way. Revoked links offer nothing."""

import datetime
import re

import pytest
from django.core import mail
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from rooms.actors import Actor
from stakeholders import links
from stakeholders.models import AccessLink
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db
CSRF = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+|("X-CSRFToken": ")[^"]+')


@pytest.fixture(autouse=True)
def _own_cache(settings, tmp_path):
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
    return StakeholderFactory(room=room, name="Maria Lopez", email="Maria.Lopez@Acme.example")


@pytest.fixture
def issued(buyer, owner):
    return links.link_issue(actor=Actor(user=owner), room=buyer.room, stakeholder=buyer)


@pytest.fixture
def link(issued):
    AccessLink.objects.filter(pk=issued[0].pk).update(
        expires_at=timezone.now() - datetime.timedelta(days=1)
    )
    issued[0].refresh_from_db()
    return issued[0]


@pytest.fixture
def token(issued, link):
    return issued[1]


def url(token):
    return f"/b/{token}/"


def ask(token, email, client=None):
    return (client or Client()).post(url(token), {"email": email})


def without_csrf(response):
    return CSRF.sub(lambda m: (m.group(1) or m.group(2)) + "…", response.content.decode())


def test_expired_link_offers_the_refresh_form(token, owner):
    response = Client().get(url(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert "It has expired" in html
    assert re.search(r'<form method="post"[^>]*>', html)
    assert 'type="email" name="email"' in html
    assert "Send me a fresh link" in html
    assert owner.display_name in html  # and whom to ask otherwise


def test_matching_email_gets_a_fresh_link_by_email(token, buyer, link):
    response = ask(token, "maria.lopez@acme.example")  # another case, same address
    assert response.status_code == 410
    assert "Check your email" in response.content.decode()
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [buyer.email]
    fresh_token = re.search(r"/b/([A-Za-z0-9_-]{43})/", message.body).group(1)
    assert fresh_token != token
    fresh = links.link_find(fresh_token)
    assert fresh.stakeholder == buyer and fresh.state == "active"
    assert AccessLink.objects.filter(stakeholder=buyer).active().count() == 1


def test_the_fresh_link_opens_the_room(token, buyer):
    ask(token, buyer.email)
    fresh_token = re.search(r"/b/([A-Za-z0-9_-]{43})/", mail.outbox[0].body).group(1)
    client = Client()
    assert client.get(url(fresh_token)).status_code == 303
    assert client.get("/b/room/").status_code == 200


def test_surrounding_spaces_in_the_email_are_forgiven(token):
    ask(token, "  maria.lopez@acme.example ")
    assert len(mail.outbox) == 1


def test_the_fresh_link_email_replies_to_the_room_owner(token, owner, room):
    ask(token, "maria.lopez@acme.example")
    message = mail.outbox[0]
    assert message.reply_to == [owner.email]
    assert owner.display_name in message.body
    ((html, mimetype),) = message.alternatives  # and a simple HTML part (mapsite.emails)
    assert mimetype == "text/html" and "<script" not in html


@pytest.mark.parametrize(
    "email", ["someone@else.example", "maria.lopez@acme.example.evil", "", "not an email"]
)
def test_other_email_sends_nothing(token, buyer, email):
    response = ask(token, email)
    assert response.status_code == 410
    assert mail.outbox == []
    assert AccessLink.objects.filter(stakeholder=buyer).count() == 1


def test_both_answers_say_the_same_thing(token):
    matching = ask(token, "maria.lopez@acme.example")
    other = ask(token, "someone@else.example")
    assert len(mail.outbox) == 1
    assert matching.status_code == other.status_code
    assert without_csrf(matching) == without_csrf(other)


def test_a_stakeholder_without_email_never_gets_one(room, owner):
    person = StakeholderFactory(room=room, email="")
    link, token = links.link_issue(actor=Actor(user=owner), room=room, stakeholder=person)
    AccessLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert ask(token, "").status_code == 410
    assert mail.outbox == []
    assert AccessLink.objects.filter(stakeholder=person).count() == 1


def test_revoked_link_offers_no_refresh_form(issued, owner):
    link, token = issued
    AccessLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    response = Client().get(url(token))
    assert response.status_code == 410
    html = response.content.decode()
    assert 'name="email"' not in html and "Send me a fresh link" not in html
    assert "withdrawn" in html and owner.display_name in html


def test_revoked_link_post_sends_nothing(issued, buyer):
    link, token = issued
    AccessLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    response = ask(token, buyer.email)
    assert response.status_code == 410
    assert "Check your email" not in response.content.decode()
    assert mail.outbox == []
    assert AccessLink.objects.filter(stakeholder=buyer).count() == 1


def test_revoked_and_expired_link_sends_nothing(token, link, buyer):
    AccessLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())
    ask(token, buyer.email)
    assert mail.outbox == []


def test_active_link_post_sends_nothing(issued, buyer):
    _, token = issued
    response = ask(token, buyer.email)
    assert response.status_code == 302
    assert mail.outbox == []


def test_unknown_token_post_sends_nothing():
    assert ask("A" * 43, "maria.lopez@acme.example").status_code == 404
    assert mail.outbox == []


def test_the_expired_link_stays_expired_after_a_refresh(token, link, buyer):
    ask(token, buyer.email)
    link.refresh_from_db()
    assert link.state == "expired"
    assert Client().get(url(token)).status_code == 410


def test_refresh_service_reports_whether_it_sent(token, buyer):
    assert links.link_refresh_request(token=token, email="x@example.com") is False
    assert links.link_refresh_request(token=token, email=buyer.email.upper()) is True
    assert len(mail.outbox) == 1
