from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from accounts.models import Invitation, Membership, Role, hash_token
from accounts.services import invitation_create
from tests.alerts.backends import FlakySMTPBackend
from tests.conftest import login
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

MEMBERS = "accounts:members"


@pytest.fixture
def admin_member_client(admin_user):
    return login(admin_user)


@pytest.fixture
def invitation(org, admin_user):
    return invitation_create(org=org, invited_by=admin_user, email="new@example.com", role="rep")[0]


def _membership(org, user):
    return Membership.objects.get(org=org, user=user)


# --- viewing --------------------------------------------------------------------------


def test_any_member_sees_members_and_pending_invitations(
    owner_client, org, owner, member, admin_user, invitation
):
    response = owner_client.get(reverse(MEMBERS))

    html = response.content.decode()
    assert response.status_code == 200
    for user in (owner, member, admin_user):
        assert user.email in html
    assert "new@example.com" in html
    assert "Invite a teammate" not in html  # reps don't invite
    assert reverse("accounts:member_role", args=[_membership(org, owner).pk]) not in html


def test_anonymous_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse(MEMBERS))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_members_page_does_not_show_other_orgs(outsider_client, owner, invitation):
    html = outsider_client.get(reverse(MEMBERS)).content.decode()

    assert owner.email not in html
    assert "new@example.com" not in html


# --- inviting -------------------------------------------------------------------------


def test_admin_invites_a_rep_and_an_email_carries_the_link(admin_member_client, org, admin_user):
    response = admin_member_client.post(
        reverse("accounts:invite"), {"email": "Newbie@Example.com", "role": "rep"}
    )

    assert response.status_code == 302
    invitation = Invitation.objects.get(org=org)
    assert invitation.email == "newbie@example.com"
    assert invitation.role == Role.REP
    assert invitation.invited_by == admin_user
    assert invitation.is_pending
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["newbie@example.com"]
    assert org.name in message.subject
    prefix = f"{settings.SITE_URL}/accounts/invite/"
    token = message.body.split(prefix, 1)[1].split("/", 1)[0]
    assert hash_token(token) == invitation.token_hash


def test_admin_invites_an_admin(admin_member_client, org):
    admin_member_client.post(
        reverse("accounts:invite"), {"email": "boss@example.com", "role": "admin"}
    )

    assert Invitation.objects.get(org=org).role == Role.ADMIN


def test_manager_invites_a_manager(member_client, org, member):
    response = member_client.post(
        reverse("accounts:invite"), {"email": "peer@example.com", "role": "manager"}
    )

    assert response.status_code == 302
    invitation = Invitation.objects.get(org=org)
    assert (invitation.role, invitation.invited_by) == (Role.MANAGER, member)
    assert len(mail.outbox) == 1


def test_manager_cannot_invite_an_admin(member_client, org):
    response = member_client.post(
        reverse("accounts:invite"), {"email": "boss@example.com", "role": "admin"}
    )

    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not Invitation.objects.exists()
    assert mail.outbox == []


def test_manager_invite_form_offers_no_admin_role(member_client):
    html = member_client.get(reverse(MEMBERS)).content.decode()

    assert 'value="manager"' in html
    assert '<option value="admin"' not in html


def test_rep_cannot_invite(owner_client):
    response = owner_client.post(
        reverse("accounts:invite"), {"email": "x@example.com", "role": "rep"}
    )

    assert response.status_code == 404
    assert not Invitation.objects.exists()


def test_inviting_an_existing_member_is_refused(admin_member_client, owner):
    response = admin_member_client.post(
        reverse("accounts:invite"), {"email": owner.email.upper(), "role": "rep"}
    )

    assert response.status_code == 200
    assert "already a member" in response.content.decode()
    assert not Invitation.objects.exists()


def test_inviting_with_a_bad_email_shows_the_error(admin_member_client):
    response = admin_member_client.post(
        reverse("accounts:invite"), {"email": "nope", "role": "rep"}
    )

    html = response.content.decode()
    assert "Enter a valid email address." in html
    assert 'aria-describedby="invite_email_error"' in html


def test_reinviting_revokes_the_previous_pending_invitation(admin_member_client, org, invitation):
    admin_member_client.post(
        reverse("accounts:invite"), {"email": "new@example.com", "role": "rep"}
    )

    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert Invitation.objects.filter(org=org, revoked_at__isnull=True).count() == 1


def test_invite_get_is_not_allowed(admin_member_client):
    assert admin_member_client.get(reverse("accounts:invite")).status_code == 405


def test_failed_email_leaves_no_usable_invitation(admin_member_client, org, settings):
    # A mail server that drops the line (tests/alerts/backends.py).
    settings.MAILERS = {"default": {"BACKEND": "tests.alerts.backends.FlakySMTPBackend"}}
    FlakySMTPBackend.failures = 1

    response = admin_member_client.post(
        reverse("accounts:invite"), {"email": "x@example.com", "role": "rep"}, follow=True
    )

    assert "couldn&#x27;t send" in response.content.decode()
    assert not any(i.is_pending for i in Invitation.objects.all())


# --- roles ----------------------------------------------------------------------------


def test_admin_changes_a_members_role(admin_member_client, org, owner):
    response = admin_member_client.post(
        reverse("accounts:member_role", args=[_membership(org, owner).pk]), {"role": "manager"}
    )

    assert response.status_code == 302
    assert _membership(org, owner).role == Role.MANAGER


def test_manager_cannot_change_roles(member_client, org, owner):
    response = member_client.post(
        reverse("accounts:member_role", args=[_membership(org, owner).pk]), {"role": "admin"}
    )

    assert response.status_code == 404
    assert _membership(org, owner).role == Role.REP


def test_rep_cannot_change_roles(owner_client, org, owner):
    response = owner_client.post(
        reverse("accounts:member_role", args=[_membership(org, owner).pk]), {"role": "admin"}
    )

    assert response.status_code == 404
    assert _membership(org, owner).role == Role.REP


def test_last_admin_cannot_demote_themselves(admin_member_client, org, admin_user):
    response = admin_member_client.post(
        reverse("accounts:member_role", args=[_membership(org, admin_user).pk]),
        {"role": "rep"},
        follow=True,
    )

    assert "only admin" in response.content.decode()
    assert _membership(org, admin_user).role == Role.ADMIN


def test_admin_can_demote_themselves_when_another_admin_exists(
    admin_member_client, org, admin_user
):
    MembershipFactory(org=org, role=Role.ADMIN)

    admin_member_client.post(
        reverse("accounts:member_role", args=[_membership(org, admin_user).pk]),
        {"role": "manager"},
    )

    assert _membership(org, admin_user).role == Role.MANAGER


def test_unknown_role_is_refused(admin_member_client, org, owner):
    admin_member_client.post(
        reverse("accounts:member_role", args=[_membership(org, owner).pk]), {"role": "owner"}
    )

    assert _membership(org, owner).role == Role.REP


# --- removing -------------------------------------------------------------------------


def test_admin_removes_a_member_after_confirming(admin_member_client, org, owner):
    url = reverse("accounts:member_remove", args=[_membership(org, owner).pk])

    confirm = admin_member_client.get(url)
    assert confirm.status_code == 200
    assert owner.email in confirm.content.decode()
    assert Membership.objects.filter(org=org, user=owner).exists()

    response = admin_member_client.post(url)

    assert response.status_code == 302
    assert response["Location"] == reverse(MEMBERS)
    assert not Membership.objects.filter(org=org, user=owner).exists()


def test_manager_cannot_remove_members(member_client, org, owner):
    url = reverse("accounts:member_remove", args=[_membership(org, owner).pk])

    assert member_client.post(url).status_code == 404
    assert Membership.objects.filter(org=org, user=owner).exists()


def test_rep_cannot_remove_members(owner_client, org, member):
    url = reverse("accounts:member_remove", args=[_membership(org, member).pk])

    assert owner_client.post(url).status_code == 404
    assert Membership.objects.filter(org=org, user=member).exists()


def test_last_admin_cannot_remove_themselves(admin_member_client, org, admin_user):
    url = reverse("accounts:member_remove", args=[_membership(org, admin_user).pk])

    response = admin_member_client.post(url, follow=True)

    assert "only admin" in response.content.decode()
    assert Membership.objects.filter(org=org, user=admin_user).exists()


def test_admin_can_leave_when_another_admin_exists(admin_member_client, org, admin_user):
    MembershipFactory(org=org, role=Role.ADMIN)
    url = reverse("accounts:member_remove", args=[_membership(org, admin_user).pk])

    response = admin_member_client.post(url)

    assert response.status_code == 302
    assert not Membership.objects.filter(org=org, user=admin_user).exists()


# --- revoking invitations ---------------------------------------------------------------


def test_admin_revokes_a_pending_invitation(admin_member_client, invitation):
    response = admin_member_client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_rep_cannot_revoke_invitations(owner_client, invitation):
    response = owner_client.post(reverse("accounts:invitation_revoke", args=[invitation.pk]))

    assert response.status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None


def test_expired_invitations_are_not_listed_as_pending(owner_client, invitation):
    Invitation.objects.filter(pk=invitation.pk).update(
        expires_at=timezone.now() - timedelta(minutes=1)
    )

    assert "new@example.com" not in owner_client.get(reverse(MEMBERS)).content.decode()


# --- tenancy --------------------------------------------------------------------------


def test_other_orgs_admin_cannot_change_roles_here(outsider_client, org, owner):
    url = reverse("accounts:member_role", args=[_membership(org, owner).pk])

    assert outsider_client.post(url, {"role": "admin"}).status_code == 404
    assert _membership(org, owner).role == Role.REP


def test_other_orgs_admin_cannot_remove_members_here(outsider_client, org, owner):
    url = reverse("accounts:member_remove", args=[_membership(org, owner).pk])

    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url).status_code == 404
    assert Membership.objects.filter(org=org, user=owner).exists()


def test_other_orgs_admin_cannot_revoke_invitations_here(outsider_client, invitation):
    url = reverse("accounts:invitation_revoke", args=[invitation.pk])

    assert outsider_client.post(url).status_code == 404
    invitation.refresh_from_db()
    assert invitation.revoked_at is None
