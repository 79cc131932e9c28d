import pytest
from django.test import Client

from accounts.models import Role

from .factories import PASSWORD, MembershipFactory, OrganizationFactory, RoomFactory

# Internal addresses in the spellings that must all be refused where a URL is saved
# (tests/test_outbound.py has the full list), and a name that resolves to one.
INTERNAL_URLS = [
    "https://127.0.0.1/services/x",
    "https://localhost:6379/",
    "https://10.0.0.1/",
    "https://169.254.169.254/latest/meta-data/",
    "https://[::ffff:127.0.0.1]/",
    "https://[::1]/",
    "https://0x7f000001/",
    "https://2130706433/",
    "https://0177.0.0.1/",
    "https://127.1/",
]


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # The manifest storage needs collectstatic; tests serve static files from finders.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    # Fast hashing in tests; production keeps Django's default (PBKDF2).
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Uploaded documents go to a folder of the test's own, never the data directory.
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def _fresh_cache():
    # The caches are shared across processes (folders or Redis): start each test clean.
    from django.core.cache import caches

    for each in caches.all():
        each.clear()
    yield
    for each in caches.all():
        each.clear()


@pytest.fixture
def allow_local_receivers(settings):
    """The tests' receivers listen on 127.0.0.1, which outgoing requests may not reach
    by default: let them through the way an operator lets a private network through
    (OUTBOUND_ALLOW_NETWORKS), not by loosening the rule."""
    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8", "::1/128"]


@pytest.fixture
def org():
    return OrganizationFactory(name="Northwind")


@pytest.fixture
def other_org():
    return OrganizationFactory(name="Globex")


@pytest.fixture
def owner(org):
    """A rep who owns the room under test."""
    return MembershipFactory(org=org, role=Role.REP).user


@pytest.fixture
def member(org):
    """Another member of the same organisation (a manager)."""
    return MembershipFactory(org=org, role=Role.MANAGER).user


@pytest.fixture
def admin_user(org):
    return MembershipFactory(org=org, role=Role.ADMIN).user


@pytest.fixture
def outsider(other_org):
    """An admin of another organisation: must never see the room."""
    return MembershipFactory(org=other_org, role=Role.ADMIN).user


@pytest.fixture
def room(org, owner):
    return RoomFactory(org=org, owner=owner)


def login(user):
    client = Client()
    assert client.login(email=user.email, password=PASSWORD)
    return client


def buyer_client(person, client=None):
    """A browser that opened a fresh personal link of ``person`` (a stakeholder)."""
    from django.urls import reverse

    from rooms.actors import Actor
    from stakeholders.links import link_issue

    _, token = link_issue(actor=Actor(), room=person.room, stakeholder=person)
    client = client or Client()
    assert client.get(reverse("buyer:open", args=[token])).status_code == 303
    return client


@pytest.fixture
def owner_client(owner):
    return login(owner)


@pytest.fixture
def member_client(member):
    return login(member)


@pytest.fixture
def outsider_client(outsider):
    return login(outsider)
