"""Wrong passwords and password reset requests are limited (in the shared cache), so
nobody can guess passwords or flood someone's inbox from the sign-in pages."""

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db
LOGIN = reverse("accounts:login")
RESET = reverse("accounts:password_reset")


@pytest.fixture
def limits(settings):
    settings.SIGN_IN_FAILURE_LIMIT = 3
    settings.SIGN_IN_CLIENT_LIMIT = 5
    settings.SIGN_IN_WINDOW = 900
    settings.PASSWORD_RESET_LIMIT = 2
    settings.PASSWORD_RESET_WINDOW = 3600
    return settings


def sign_in(client, email, password, address="203.0.113.7"):
    return client.post(LOGIN, {"username": email, "password": password}, REMOTE_ADDR=address)


def test_wrong_passwords_for_one_email_block_it_even_with_the_right_one(client, owner, limits):
    for _ in range(3):
        assert sign_in(client, owner.email, "wrong-password").status_code == 200
    response = sign_in(client, owner.email, PASSWORD)
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 900
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    # The same email in other letters counts as the same account.
    assert sign_in(client, owner.email.upper(), PASSWORD, address="198.51.100.1").status_code == 429


def test_a_success_clears_the_count_for_that_email(client, owner, limits):
    for _ in range(2):
        sign_in(client, owner.email, "wrong-password")
    assert sign_in(client, owner.email, PASSWORD).status_code == 302
    client.logout()
    for _ in range(2):
        assert sign_in(client, owner.email, "wrong-password").status_code == 200
    assert sign_in(client, owner.email, PASSWORD).status_code == 302


def test_one_client_trying_many_emails_is_limited_too(client, owner, limits):
    for n in range(5):
        assert sign_in(client, f"guess{n}@example.com", "x").status_code == 200
    assert sign_in(client, owner.email, PASSWORD).status_code == 429
    # Another client address is not affected.
    assert sign_in(client, owner.email, PASSWORD, address="198.51.100.1").status_code == 302


def test_password_reset_requests_are_limited_per_client(client, owner, limits):
    for _ in range(2):
        response = client.post(RESET, {"email": owner.email}, REMOTE_ADDR="203.0.113.7")
        assert response.status_code == 302
    response = client.post(RESET, {"email": owner.email}, REMOTE_ADDR="203.0.113.7")
    assert response.status_code == 429
    assert "Too many reset requests" in response.content.decode()
    assert len(mail.outbox) == 2


def api_sign_in(client, email, password, **headers):
    return client.post(
        "/api/v1/auth/token/",
        {"email": email, "password": password},
        content_type="application/json",
        REMOTE_ADDR="203.0.113.7",
        **headers,
    )


def test_the_api_token_exchange_counts_against_the_same_limits(client, owner, limits):
    limits.API_SIGNIN_RATE = "1000/min"  # the per-email limit is what is tested here
    for n in range(3):
        # A forged X-Forwarded-For does not make a new client (no proxy is trusted).
        forged = {"HTTP_X_FORWARDED_FOR": f"192.0.2.{n}"}
        assert api_sign_in(client, owner.email, "wrong-password", **forged).status_code == 400
    blocked = api_sign_in(client, owner.email, PASSWORD)
    assert blocked.status_code == 429 and 1 <= int(blocked["Retry-After"]) <= 900
    # The sign-in page is blocked for that email too.
    assert sign_in(client, owner.email, PASSWORD, address="198.51.100.1").status_code == 429


def test_a_forged_forwarded_for_does_not_escape_the_api_rate(client, owner, limits):
    limits.API_SIGNIN_RATE = "3/min"
    codes = [
        api_sign_in(
            client, f"guess{n}@example.com", "x", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}"
        ).status_code
        for n in range(4)
    ]
    assert codes == [400, 400, 400, 429]
