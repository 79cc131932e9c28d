import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from accounts.membership import SESSION_KEY
from accounts.models import Membership, Organization, Role, User
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

SIGNUP = {
    "name": "Ada Lovelace",
    "email": "Ada@Example.com",
    "password": "analytical-engine-42",
    "org_name": "  Engines Ltd ",
}


def test_signup_creates_org_with_admin_and_signs_in(client):
    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    user = User.objects.get(email="ada@example.com")
    assert user.name == "Ada Lovelace"
    assert user.check_password("analytical-engine-42")
    org = Organization.objects.get(name="Engines Ltd")
    assert Membership.objects.get(org=org, user=user).role == Role.ADMIN
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[SESSION_KEY] == str(org.pk)


def test_signup_page_fields_are_labelled_with_autocomplete(client):
    response = client.get(reverse("accounts:signup"))

    html = response.content.decode()
    assert response.status_code == 200
    for field in ("name", "email", "password", "org_name"):
        assert f'for="id_{field}"' in html
    assert 'autocomplete="email"' in html
    assert 'autocomplete="new-password"' in html
    assert reverse("accounts:login") in html


def test_signup_with_taken_email_explains_and_links_to_sign_in(client):
    UserFactory(email="ada@example.com")

    response = client.post(reverse("accounts:signup"), SIGNUP)

    assert response.status_code == 200
    html = response.content.decode()
    assert "An account with this email already exists — sign in or reset your password" in html
    assert 'aria-describedby="id_email_error"' in html
    assert reverse("accounts:password_reset") in html
    assert not Organization.objects.filter(name="Engines Ltd").exists()


def test_signup_with_weak_password_is_refused(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "password": "password"})

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="ada@example.com").exists()


def test_signup_with_password_like_the_email_is_refused(client):
    response = client.post(
        reverse("accounts:signup"),
        {**SIGNUP, "email": "ada.lovelace@example.com", "password": "ada.lovelace"},
    )

    assert response.status_code == 200
    assert "too similar" in response.content.decode()
    assert not User.objects.exists()


def test_signup_with_blank_org_name_is_refused(client):
    response = client.post(reverse("accounts:signup"), {**SIGNUP, "org_name": "   "})

    assert response.status_code == 200
    assert "Enter the name of your organisation." in response.content.decode()
    assert not User.objects.exists()
    assert not Organization.objects.exists()


def test_signed_in_user_visiting_signup_is_sent_to_rooms(owner_client):
    response = owner_client.get(reverse("accounts:signup"))

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_login_page_links_to_signup_and_password_reset(client):
    response = client.get(reverse("accounts:login"))

    html = response.content.decode()
    assert reverse("accounts:signup") in html
    assert reverse("accounts:password_reset") in html
    assert 'autocomplete="current-password"' in html
    assert 'type="email"' in html


def test_login_email_is_case_insensitive(client, owner):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email.upper(), "password": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    assert client.session["_auth_user_id"] == str(owner.pk)


def test_login_with_wrong_password_shows_error(client, owner):
    response = client.post(
        reverse("accounts:login"), {"username": owner.email, "password": "nope-nope-nope"}
    )

    assert response.status_code == 200
    assert "don&#x27;t match an account" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_login_follows_safe_next(client, owner):
    response = client.post(
        reverse("accounts:login") + "?next=/accounts/members/",
        {"username": owner.email, "password": PASSWORD, "next": "/accounts/members/"},
    )

    assert response["Location"] == "/accounts/members/"


def test_login_ignores_foreign_next(client, owner):
    response = client.post(
        reverse("accounts:login"),
        {"username": owner.email, "password": PASSWORD, "next": "https://evil.example/"},
    )

    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_logout_by_get_is_refused_and_keeps_session(owner_client, owner):
    response = owner_client.get(reverse("accounts:logout"))

    assert response.status_code == 405
    assert owner_client.session["_auth_user_id"] == str(owner.pk)


def test_logout_by_post_signs_out(owner_client):
    response = owner_client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:login")
    assert "_auth_user_id" not in owner_client.session


def test_password_change(owner_client, owner):
    response = owner_client.post(
        reverse("accounts:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a-brand-new-secret-9",
            "new_password2": "a-brand-new-secret-9",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_change_done")
    owner.refresh_from_db()
    assert owner.check_password("a-brand-new-secret-9")
