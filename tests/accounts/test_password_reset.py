import re

import pytest
from django.conf import settings
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-otter-lantern-7"


def _reset_link():
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    match = re.search(re.escape(settings.SITE_URL) + r"(/accounts/reset/\S+/\S+/)", body)
    assert match, body
    return match.group(1)


def test_password_reset_end_to_end(client, owner):
    response = client.post(reverse("accounts:password_reset"), {"email": owner.email.upper()})
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox[0].to == [owner.email]
    assert mail.outbox[0].subject == "Reset your mapsite password"

    path = _reset_link()
    response = client.get(path)  # Django swaps the token for a session-held one
    assert response.status_code == 302
    set_password_url = response["Location"]
    response = client.get(set_password_url)
    assert response.status_code == 200
    assert "Choose a new password" in response.content.decode()

    response = client.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_complete")

    assert Client().login(email=owner.email, password=NEW_PASSWORD)
    assert not Client().login(email=owner.email, password=PASSWORD)
    response = Client().post(
        reverse("accounts:login"), {"username": owner.email, "password": NEW_PASSWORD}
    )
    assert response.status_code == 302


def test_password_reset_email_uses_site_url_not_request_host(client, owner, settings):
    settings.SITE_URL = "https://map.example.com"

    client.post(reverse("accounts:password_reset"), {"email": owner.email}, HTTP_HOST="localhost")

    assert "https://map.example.com/accounts/reset/" in mail.outbox[0].body


def test_password_reset_for_unknown_email_sends_nothing_but_looks_the_same(client):
    response = client.post(reverse("accounts:password_reset"), {"email": "nobody@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")
    assert mail.outbox == []


def test_used_reset_link_is_refused(client, owner):
    client.post(reverse("accounts:password_reset"), {"email": owner.email})
    path = _reset_link()
    set_password_url = client.get(path)["Location"]
    client.post(set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = Client().get(path, follow=True)

    assert "Request a new link" in response.content.decode()


def test_reset_pages_render(client):
    for name in ("password_reset", "password_reset_done", "password_reset_complete"):
        assert client.get(reverse(f"accounts:{name}")).status_code == 200
