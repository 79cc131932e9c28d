import uuid
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Membership, Organization, Role, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _run(*args):
    out = StringIO()
    call_command("create_org", *args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_create_org_prints_only_the_uuid_and_creates_org_and_admin():
    out = _run(
        "--name", "Acme Sales", "--email", "Boss@Acme.example",
        "--password", "quiet-meadow-lamp-3", "--user-name", "Bo Ss",
    )  # fmt: skip

    assert out.count("\n") == 1
    org_id = uuid.UUID(out.strip())
    org = Organization.objects.get(pk=org_id)
    assert org.name == "Acme Sales"
    user = User.objects.get(email="boss@acme.example")
    assert user.name == "Bo Ss"
    assert user.check_password("quiet-meadow-lamp-3")
    assert Membership.objects.get(org=org, user=user).role == Role.ADMIN


def test_create_org_with_taken_email_fails_clearly():
    UserFactory(email="boss@acme.example")

    with pytest.raises(CommandError, match="A user with email boss@acme.example already exists."):
        _run("--name", "Acme", "--email", "BOSS@acme.example", "--password", "quiet-meadow-3")

    assert not Organization.objects.exists()


def test_create_org_with_weak_password_fails():
    with pytest.raises(CommandError, match="too common") as error:
        _run("--name", "Acme", "--email", "boss@acme.example", "--password", "password")

    assert error.value.returncode != 0
    assert not User.objects.exists()
    assert not Organization.objects.exists()


def test_create_org_with_bad_email_fails():
    with pytest.raises(CommandError, match="not a valid email"):
        _run("--name", "Acme", "--email", "not-an-email", "--password", "quiet-meadow-3")

    assert not User.objects.exists()


def test_create_org_with_blank_name_fails():
    with pytest.raises(CommandError, match="name"):
        _run("--name", "  ", "--email", "boss@acme.example", "--password", "quiet-meadow-3")
