import uuid

import pytest
from django.conf import settings
from django.shortcuts import resolve_url
from django.urls import reverse

from accounts.membership import SESSION_KEY
from accounts.models import Membership, Organization, Role
from tests.conftest import login
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

SWITCH = "accounts:switch_org"


@pytest.fixture
def two_org_user(org, other_org):
    user = MembershipFactory(org=org, role=Role.REP).user
    MembershipFactory(org=other_org, user=user, role=Role.MANAGER)
    return user


def test_switch_to_own_org_changes_current_membership(two_org_user, other_org):
    client = login(two_org_user)

    response = client.post(reverse(SWITCH), {"org": str(other_org.pk)})

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
    assert client.session[SESSION_KEY] == str(other_org.pk)
    page = client.get(reverse("accounts:members"))
    assert page.context["current_membership"].org == other_org
    assert page.context["current_membership"].role == Role.MANAGER


def test_switch_back_and_forth(two_org_user, org, other_org):
    client = login(two_org_user)
    client.post(reverse(SWITCH), {"org": str(other_org.pk)})

    client.post(reverse(SWITCH), {"org": str(org.pk)})

    assert client.get(reverse("accounts:members")).context["current_membership"].org == org


def test_switch_to_foreign_org_is_404(owner_client, other_org, org):
    owner_client.post(reverse(SWITCH), {"org": str(org.pk)})

    response = owner_client.post(reverse(SWITCH), {"org": str(other_org.pk)})

    assert response.status_code == 404
    assert owner_client.session[SESSION_KEY] == str(org.pk)


@pytest.mark.parametrize("value", ["", "not-a-uuid", str(uuid.uuid4())])
def test_switch_to_garbage_is_404(owner_client, value):
    assert owner_client.post(reverse(SWITCH), {"org": value}).status_code == 404


def test_switch_by_get_is_refused(owner_client):
    assert owner_client.get(reverse(SWITCH)).status_code == 405


def test_switch_follows_safe_next_only(two_org_user, other_org):
    client = login(two_org_user)

    ok = client.post(reverse(SWITCH), {"org": str(other_org.pk), "next": "/accounts/members/"})
    evil = client.post(reverse(SWITCH), {"org": str(other_org.pk), "next": "https://evil.test/"})

    assert ok["Location"] == "/accounts/members/"
    assert evil["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


@pytest.mark.parametrize("target", ["members", "2026-02-30", "Ann\r\nLee"])
def test_switch_with_a_next_that_is_no_path_goes_home_not_a_500(two_org_user, other_org, target):
    client = login(two_org_user)
    response = client.post(reverse(SWITCH), {"org": str(other_org.pk), "next": target})
    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)


def test_anonymous_switch_goes_to_sign_in(client, org):
    response = client.post(reverse(SWITCH), {"org": str(org.pk)})

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- no organisation ------------------------------------------------------------------------


def test_user_without_org_is_sent_to_the_no_org_page(client):
    client = login(UserFactory())

    response = client.get(reverse("accounts:members"))

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:no_org")


def test_no_org_page_explains_and_offers_to_create_one(client):
    user = UserFactory()

    response = login(user).get(reverse("accounts:no_org"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "invite" in html
    assert user.email in html
    assert 'for="id_name"' in html


def test_no_org_page_lists_pending_invitations_for_the_email(org, admin_user):
    from accounts.services import invitation_create

    user = UserFactory()
    invitation_create(org=org, invited_by=admin_user, email=user.email, role=Role.REP)

    html = login(user).get(reverse("accounts:no_org")).content.decode()

    assert org.name in html


def test_user_without_org_creates_one_and_becomes_admin():
    user = UserFactory()
    client = login(user)

    response = client.post(reverse("accounts:no_org"), {"name": "Solo Sales"})

    assert response.status_code == 302
    org = Organization.objects.get(name="Solo Sales")
    assert Membership.objects.get(org=org, user=user).role == Role.ADMIN
    assert client.session[SESSION_KEY] == str(org.pk)


def test_creating_org_needs_a_name():
    client = login(UserFactory())

    response = client.post(reverse("accounts:no_org"), {"name": "  "})

    assert "Enter the name of your organisation." in response.content.decode()
    assert not Organization.objects.exists()


def test_member_visiting_no_org_goes_to_rooms(owner_client):
    response = owner_client.get(reverse("accounts:no_org"))

    assert response.status_code == 302
    assert response["Location"] == resolve_url(settings.LOGIN_REDIRECT_URL)
