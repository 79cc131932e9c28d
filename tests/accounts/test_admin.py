import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role, User
from accounts.services import invitation_create
from tests.factories import MembershipFactory, OrganizationFactory, UserFactory

pytestmark = pytest.mark.django_db


def _perms(*codenames):
    return Permission.objects.filter(content_type__app_label="accounts", codename__in=codenames)


@pytest.fixture
def org_a():
    return OrganizationFactory(name="Alpha")


@pytest.fixture
def org_b():
    return OrganizationFactory(name="Bravo")


@pytest.fixture
def staff(org_a):
    """Staff (not superuser), admin of org A, with every accounts permission."""
    user = UserFactory(email="staff@alpha.example", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    MembershipFactory(org=org_a, user=user, role=Role.ADMIN)
    return user


@pytest.fixture
def staff_client(staff):
    client = Client()
    client.force_login(staff)
    return client


@pytest.fixture
def a_member(org_a):
    return MembershipFactory(org=org_a, user=UserFactory(email="rep@alpha.example"))


@pytest.fixture
def b_member(org_b):
    return MembershipFactory(org=org_b, user=UserFactory(email="rep@bravo.example"))


@pytest.fixture
def superuser_client():
    user = User.objects.create_superuser(email="root@example.com", password="x-root-pass-9")
    client = Client()
    client.force_login(user)
    return client


def _change_url(obj):
    meta = obj._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])


def test_staff_sees_only_their_orgs_memberships(staff_client, a_member, b_member):
    response = staff_client.get(reverse("admin:accounts_membership_changelist"))

    html = response.content.decode()
    assert response.status_code == 200
    assert "rep@alpha.example" in html
    assert "rep@bravo.example" not in html
    assert "Bravo" not in html  # not even in the org filter


def test_staff_cannot_open_another_orgs_membership(staff_client, a_member, b_member):
    assert staff_client.get(_change_url(a_member)).status_code == 200

    response = staff_client.get(_change_url(b_member))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_staff_cannot_delete_another_orgs_membership(staff_client, b_member):
    url = reverse("admin:accounts_membership_delete", args=[b_member.pk])

    staff_client.post(url, {"post": "yes"})

    assert Membership.objects.filter(pk=b_member.pk).exists()


def test_staff_cannot_edit_another_orgs_membership(staff_client, b_member):
    staff_client.post(
        _change_url(b_member),
        {"org": str(b_member.org_id), "user": b_member.user_id, "role": "admin"},
    )

    b_member.refresh_from_db()
    assert b_member.role == Role.REP


def test_staff_membership_form_offers_only_their_orgs(staff_client, a_member, org_b):
    response = staff_client.get(reverse("admin:accounts_membership_add"))

    form = response.context["adminform"].form
    assert list(form.fields["org"].queryset) == [a_member.org]
    assert org_b not in form.fields["org"].queryset
    assert "rep@bravo.example" not in response.content.decode()


def test_staff_cannot_move_a_membership_to_another_org(staff_client, a_member, org_b):
    staff_client.post(
        _change_url(a_member), {"org": str(org_b.pk), "user": a_member.user_id, "role": "rep"}
    )

    a_member.refresh_from_db()
    assert a_member.org_id != org_b.pk


def test_staff_sees_only_their_organizations(staff_client, org_a, org_b):
    response = staff_client.get(reverse("admin:accounts_organization_changelist"))

    html = response.content.decode()
    assert "Alpha" in html and "Bravo" not in html
    assert staff_client.get(_change_url(org_b)).status_code == 302


def test_staff_sees_only_their_orgs_invitations(staff_client, staff, org_a, org_b):
    mine, _ = invitation_create(org=org_a, invited_by=staff, email="a@x.example", role="rep")
    theirs, _ = invitation_create(org=org_b, invited_by=None, email="b@x.example", role="rep")

    html = staff_client.get(reverse("admin:accounts_invitation_changelist")).content.decode()

    assert "a@x.example" in html and "b@x.example" not in html
    assert staff_client.get(_change_url(theirs)).status_code == 302


def test_staff_sees_only_users_of_their_orgs(staff_client, a_member, b_member):
    html = staff_client.get(reverse("admin:accounts_user_changelist")).content.decode()

    assert "rep@alpha.example" in html
    assert "rep@bravo.example" not in html


def test_staff_cannot_edit_other_users_or_grant_themselves_superuser(staff_client, staff, a_member):
    other = staff_client.get(_change_url(a_member.user))
    assert other.status_code == 200
    assert 'name="_save"' not in other.content.decode()

    staff_client.post(
        _change_url(staff), {"email": staff.email, "name": "Me", "is_superuser": "on"}
    )

    staff.refresh_from_db()
    assert not staff.is_superuser


def test_staff_without_admin_membership_sees_nothing(org_a, a_member):
    user = UserFactory(is_staff=True)
    user.user_permissions.set(_perms("view_membership"))
    MembershipFactory(org=org_a, user=user, role=Role.MANAGER)
    client = Client()
    client.force_login(user)

    html = client.get(reverse("admin:accounts_membership_changelist")).content.decode()

    assert "rep@alpha.example" not in html


def test_superuser_sees_every_org(superuser_client, a_member, b_member):
    html = superuser_client.get(reverse("admin:accounts_membership_changelist")).content.decode()

    assert "rep@alpha.example" in html and "rep@bravo.example" in html
    assert superuser_client.get(_change_url(b_member)).status_code == 200


def test_invitation_token_hash_is_read_only_and_not_addable(superuser_client, org_a):
    invitation, _ = invitation_create(org=org_a, invited_by=None, email="a@x.example", role="rep")

    response = superuser_client.get(_change_url(invitation))

    assert "token_hash" not in response.context["adminform"].form.fields
    assert invitation.token_hash in response.content.decode()
    assert superuser_client.get(reverse("admin:accounts_invitation_add")).status_code == 403


def test_superuser_adds_a_user_with_email_and_password_twice(superuser_client):
    url = reverse("admin:accounts_user_add")
    form = superuser_client.get(url).context["adminform"].form
    assert {"email", "password1", "password2"} <= set(form.fields)
    assert "username" not in form.fields

    superuser_client.post(
        url,
        {
            "email": "Fresh@Example.com",
            "name": "Fresh",
            "password1": "tidal-copper-mint-5",
            "password2": "tidal-copper-mint-5",
        },
    )

    assert User.objects.get(email="fresh@example.com").check_password("tidal-copper-mint-5")


def test_user_changelist_columns(superuser_client, a_member):
    response = superuser_client.get(reverse("admin:accounts_user_changelist"))

    assert response.status_code == 200
    assert list(response.context["cl"].list_display)[1:] == ["email", "name", "is_staff"]
