"""A new password ends everything the old one opened: the user's API tokens are revoked
and their other sessions are ended, whichever door sets it (the change form, a reset
link, the admin, the changepassword command). The forms say so beforehand, the done
pages say how many tokens went."""

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts import services
from accounts.models import ApiToken, Membership, UserSession
from tests.conftest import login
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "violet-otter-lantern-7"
WARNING = "signs you out everywhere else and revokes your API tokens"


def api_status(raw):
    return Client().get("/api/v1/rooms/", HTTP_AUTHORIZATION=f"Token {raw}").status_code


@pytest.fixture
def tokens(owner, org):
    membership = Membership.objects.get(user=owner, org=org)
    raws = [services.api_token_create(membership=membership, name=n)[1] for n in ("CRM", "BI")]
    for raw in raws:
        assert api_status(raw) == 200
    return raws


def signed_in(client):
    response = client.get(reverse("rooms:list"))
    return response.status_code == 200


def session_exists(key):
    return UserSession.objects.filter(session_key=key).exists()


def test_changing_the_password_revokes_tokens_and_ends_other_sessions(owner, member, tokens):
    here, elsewhere = login(owner), login(owner)
    elsewhere_key = elsewhere.session.session_key
    bystander = login(member)  # someone else's session is left alone

    page = here.get(reverse("accounts:password_change"))
    assert WARNING in page.content.decode()

    response = here.post(
        reverse("accounts:password_change"),
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    done = here.get(response["Location"])
    assert "2 API tokens were revoked" in done.content.decode()

    assert [api_status(raw) for raw in tokens] == [401, 401]
    assert not ApiToken.objects.filter(user=owner, revoked_at__isnull=True).exists()
    assert not session_exists(elsewhere_key)  # ended, not merely stale
    assert not signed_in(elsewhere)
    assert signed_in(here)  # the browser that changed it stays signed in
    assert signed_in(bystander)


def test_a_reset_revokes_tokens_and_ends_every_session(owner, tokens):
    elsewhere = login(owner)
    elsewhere_key = elsewhere.session.session_key
    owner.refresh_from_db()  # signing in moved last_login, which the reset token covers
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    token = default_token_generator.make_token(owner)
    browser = Client()
    set_password_url = browser.get(f"/accounts/reset/{uid}/{token}/")["Location"]
    page = browser.get(set_password_url)
    assert WARNING.replace(" else", "") in page.content.decode()

    response = browser.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    done = browser.get(response["Location"])
    assert "2 API tokens were revoked" in done.content.decode()

    assert [api_status(raw) for raw in tokens] == [401, 401]
    assert not session_exists(elsewhere_key)
    assert not signed_in(elsewhere)
    assert not UserSession.objects.filter(user=owner).exists()


def test_a_reset_from_a_browser_signed_in_as_that_user_signs_it_out(owner, tokens):
    browser = login(owner)
    owner.refresh_from_db()  # signing in moved last_login, which the reset token covers
    uid = urlsafe_base64_encode(force_bytes(owner.pk))
    token = default_token_generator.make_token(owner)
    set_password_url = browser.get(f"/accounts/reset/{uid}/{token}/")["Location"]
    response = browser.post(
        set_password_url, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert response.status_code == 302
    assert "2 API tokens were revoked" in browser.get(response["Location"]).content.decode()
    assert not signed_in(browser)


def test_the_admin_setting_a_password_revokes_tokens_and_ends_sessions(owner, tokens):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    admin = login(superuser)
    elsewhere = login(owner)
    response = admin.post(
        reverse("admin:auth_user_password_change", args=[owner.pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
        follow=True,
    )
    assert response.status_code == 200
    assert "2 API tokens revoked" in response.content.decode()
    assert [api_status(raw) for raw in tokens] == [401, 401]
    assert not signed_in(elsewhere)
    assert admin.get("/admin/").status_code == 200


def test_the_admin_disabling_a_password_revokes_tokens_too(owner, tokens):
    admin = login(UserFactory(is_staff=True, is_superuser=True))
    admin.post(
        reverse("admin:auth_user_password_change", args=[owner.pk]),
        {"usable_password": "false", "unset-password": "1"},
    )
    owner.refresh_from_db()
    assert not owner.has_usable_password()
    assert [api_status(raw) for raw in tokens] == [401, 401]


def test_an_admin_changing_their_own_password_stays_signed_in(admin_user):
    admin_user.is_staff = admin_user.is_superuser = True
    admin_user.save()
    admin = login(admin_user)
    elsewhere = login(admin_user)
    admin.post(
        reverse("admin:auth_user_password_change", args=[admin_user.pk]),
        {"usable_password": "true", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )
    assert signed_in(admin)
    assert not signed_in(elsewhere)


def test_the_changepassword_command_revokes_tokens_and_ends_sessions(owner, tokens, monkeypatch):
    monkeypatch.setattr("getpass.getpass", lambda prompt="": NEW_PASSWORD)
    elsewhere = login(owner)
    call_command("changepassword", owner.email)
    owner.refresh_from_db()
    assert owner.check_password(NEW_PASSWORD)
    assert [api_status(raw) for raw in tokens] == [401, 401]
    assert not signed_in(elsewhere)


def test_the_service_keeps_the_session_it_is_asked_to(owner, tokens):
    here, elsewhere = login(owner), login(owner)
    changed = services.user_password_set(
        user=owner, password=NEW_PASSWORD, keep_session_key=here.session.session_key
    )
    assert changed.tokens_revoked == 2
    assert changed.sessions_ended == 1
    assert session_exists(here.session.session_key)
    assert not session_exists(elsewhere.session.session_key)
    # Nothing left to revoke the second time.
    assert services.user_password_set(user=owner, password=PASSWORD).tokens_revoked == 0


def test_expired_sessions_are_cleared_from_the_session_table(owner):
    from datetime import timedelta

    from django.utils import timezone

    from accounts.tasks import clear_expired_sessions

    client = login(owner)
    key = client.session.session_key
    UserSession.objects.filter(session_key=key).update(
        expire_date=timezone.now() - timedelta(minutes=1)
    )
    clear_expired_sessions()
    assert not session_exists(key)
