from datetime import timedelta

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import timezone

from accounts.membership import SESSION_KEY
from accounts.models import Invitation, Membership, Role, User
from accounts.services import invitation_create
from tests.conftest import login
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = "rooms:list"


def _invite(org, inviter, email="new@example.com", role=Role.MANAGER):
    invitation, token = invitation_create(org=org, invited_by=inviter, email=email, role=role)
    return invitation, reverse("accounts:invitation_accept", args=[token])


def test_invitation_url_is_under_accounts_invite():
    assert reverse("accounts:invitation_accept", args=["abc"]) == "/accounts/invite/abc/"


# --- a new person -----------------------------------------------------------------------


def test_new_person_sees_the_org_and_a_sign_up_form(client, org, admin_user):
    _invitation, url = _invite(org, admin_user)

    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert org.name in html
    assert "new@example.com" in html
    assert 'for="id_name"' in html and 'for="id_password"' in html


def test_new_person_creates_account_and_joins(client, org, admin_user):
    invitation, url = _invite(org, admin_user)

    response = client.post(url, {"name": "Nora New", "password": "glass-harbour-91"})

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    user = User.objects.get(email="new@example.com")
    assert user.name == "Nora New"
    assert user.check_password("glass-harbour-91")
    assert Membership.objects.get(org=org, user=user).role == Role.MANAGER
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[SESSION_KEY] == str(org.pk)
    invitation.refresh_from_db()
    assert invitation.accepted_by == user
    assert invitation.accepted_at is not None


def test_new_person_with_weak_password_is_refused(client, org, admin_user):
    _invitation, url = _invite(org, admin_user)

    response = client.post(url, {"name": "Nora New", "password": "12345678"})

    assert response.status_code == 200
    assert "This password is too common." in response.content.decode()
    assert not User.objects.filter(email="new@example.com").exists()


# --- someone with an account ------------------------------------------------------------


def test_signed_in_invitee_sees_org_and_accept_button(org, admin_user, other_org):
    invitee = MembershipFactory(org=other_org).user
    _invitation, url = _invite(org, admin_user, email=invitee.email)

    response = login(invitee).get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert org.name in html
    assert 'method="post"' in html and "Accept and join" in html
    assert not Membership.objects.filter(org=org, user=invitee).exists()


def test_signed_in_invitee_accepts_and_switches_to_the_org(org, admin_user, other_org):
    invitee = MembershipFactory(org=other_org).user
    invitation, url = _invite(org, admin_user, email=invitee.email.upper())
    client = login(invitee)

    response = client.post(url)

    assert response.status_code == 302
    assert Membership.objects.get(org=org, user=invitee).role == Role.MANAGER
    assert client.session[SESSION_KEY] == str(org.pk)
    page = client.get(reverse("accounts:members"))
    assert page.context["current_membership"].org == org
    invitation.refresh_from_db()
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (invitee, True)


def test_accepting_twice_is_harmless(org, admin_user):
    invitee = UserFactory()
    _invitation, url = _invite(org, admin_user, email=invitee.email)
    client = login(invitee)

    client.post(url)
    response = client.post(url)

    assert response.status_code == 302
    assert Membership.objects.filter(org=org, user=invitee).count() == 1


def test_existing_member_keeps_their_role(org, admin_user):
    _invitation, url = _invite(org, admin_user, email=admin_user.email, role=Role.REP)

    login(admin_user).post(url)

    assert Membership.objects.get(org=org, user=admin_user).role == Role.ADMIN


def test_signed_out_invitee_with_account_is_asked_to_sign_in(client, org, admin_user):
    invitee = UserFactory()
    _invitation, url = _invite(org, admin_user, email=invitee.email)

    response = client.get(url)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Sign in to accept" in html
    assert f"{reverse('accounts:login')}?next=%2Faccounts%2Finvite%2F" in html
    assert 'name="password"' not in html
    assert not Membership.objects.filter(org=org, user=invitee).exists()


def test_signed_out_invitee_cannot_create_a_second_account(client, org, admin_user):
    invitee = UserFactory()
    _invitation, url = _invite(org, admin_user, email=invitee.email)

    client.post(url, {"name": "Impostor", "password": "glass-harbour-91"})

    assert User.objects.filter(email=invitee.email).count() == 1
    assert not Membership.objects.filter(org=org, user=invitee).exists()


def test_signed_in_as_someone_else_is_told_to_switch_account(org, admin_user, outsider):
    invitation, url = _invite(org, admin_user, email="someone@example.com")

    response = login(outsider).post(url)

    html = response.content.decode()
    assert response.status_code == 403
    assert "someone@example.com" in html and outsider.email in html
    assert reverse("accounts:logout") in html
    assert not Membership.objects.filter(org=org, user=outsider).exists()
    invitation.refresh_from_db()
    assert invitation.accepted_at is None


# --- invitations that no longer work ------------------------------------------------------


def test_expired_invitation_is_gone(client, org, admin_user):
    invitation, url = _invite(org, admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.get(url)

    assert response.status_code == 410
    assert "expired" in response.content.decode()


def test_expired_invitation_cannot_be_used_to_sign_up(client, org, admin_user):
    invitation, url = _invite(org, admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )

    response = client.post(url, {"name": "Late", "password": "glass-harbour-91"})

    assert response.status_code == 410
    assert not User.objects.filter(email="new@example.com").exists()


def test_revoked_invitation_is_gone(client, org, admin_user):
    invitation, url = _invite(org, admin_user)
    Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())

    response = client.get(url)

    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_accepted_invitation_is_gone_for_others(client, org, admin_user):
    _invitation, url = _invite(org, admin_user)
    client.post(url, {"name": "Nora", "password": "glass-harbour-91"})

    response = login(admin_user).get(url)

    assert response.status_code == 410
    assert "already" in response.content.decode()


def test_unknown_token_is_404(client):
    url = reverse("accounts:invitation_accept", args=["x" * 43])

    assert client.get(url).status_code == 404


def test_malformed_long_token_is_404(client):
    url = reverse("accounts:invitation_accept", args=["%00é" + "A" * 5000])

    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404


def test_signing_in_from_the_invitation_comes_back_to_it(client, org, admin_user):
    from tests.factories import PASSWORD

    invitee = UserFactory()
    _invitation, url = _invite(org, admin_user, email=invitee.email)

    response = client.post(
        f"{reverse('accounts:login')}?next={url}",
        {"username": invitee.email, "password": PASSWORD, "next": url},
    )
    assert response["Location"] == url
    client.post(url)

    assert Membership.objects.filter(org=org, user=invitee).exists()


def test_removed_member_cannot_rejoin_with_the_old_link(org, admin_user):
    invitee = UserFactory()
    _invitation, url = _invite(org, admin_user, email=invitee.email)
    client = login(invitee)
    client.post(url)
    Membership.objects.filter(org=org, user=invitee).delete()

    response = client.post(url)

    assert response.status_code == 410
    assert not Membership.objects.filter(org=org, user=invitee).exists()
