"""The rate limits hold under real concurrency, on both shared caches (the embedded
file cache, and Redis when REDIS_URL is set): 40 requests at once from one client let
exactly ``limit`` attempts through. Behind a trusted proxy each client is counted on
its own address, and a forged X-Forwarded-For entry cannot choose the key. The compose
file passes the limits and the proxy count through."""

import collections
import os
import pickle
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pytest
import yaml
from django.conf import settings as django_settings
from django.core import mail
from django.core.cache import cache
from django.db import connections
from django.test import Client
from django.urls import reverse

import accounts.throttle
import api.throttling
from accounts.throttle import Limiter
from tests.factories import PASSWORD

THREADS = 40
ADDRESS = "203.0.113.7"
LOGIN = reverse("accounts:login")
RESET = reverse("accounts:password_reset")
API_SIGN_IN = "/api/v1/auth/token/"
ROOT = Path(django_settings.BASE_DIR)


def _embedded_backend():
    """The cache backend the embedded default (no REDIS_URL) configures, read from the
    settings in a process of its own."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', "
            "'mapsite.settings'); from django.conf import settings; "
            "print(settings.CACHES['default']['BACKEND'])",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


@pytest.fixture(scope="session")
def embedded_backend():
    return _embedded_backend()


@pytest.fixture(params=["file", "redis"])
def shared_cache(request, settings, tmp_path, embedded_backend):
    """Each shared cache the app runs on; Redis only where REDIS_URL is configured."""
    if request.param == "redis":
        if not settings.REDIS_URL:
            pytest.skip("no Redis configured (REDIS_URL is not set)")
        location = settings.REDIS_URL
        backend = "mapsite.cache.RedisCache"  # as production runs it
    else:
        location = str(tmp_path / "cache")
        backend = embedded_backend
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": location}}
    cache.clear()
    yield request.param
    cache.clear()


def at_once(work, n=THREADS):
    """Run ``work(i)`` in ``n`` threads released together; the answers, counted."""
    barrier = threading.Barrier(n)
    answers, errors = [], []

    def run(i):
        try:
            barrier.wait()
            answers.append(work(i))
        except Exception as exc:  # noqa: BLE001 - any failure fails the test below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(answers) == n
    return collections.Counter(answers)


# --- exactly `limit` attempts get through, whatever the concurrency --------------------------


@pytest.mark.django_db(transaction=True)
def test_forty_guessed_buyer_links_at_once_look_up_exactly_the_limit(shared_cache, settings):
    settings.BUYER_LINK_MISS_LIMIT = 20
    codes = at_once(
        lambda i: Client(REMOTE_ADDR=ADDRESS).get(f"/b/{uuid.uuid4().hex}{i:011d}/").status_code
    )
    assert codes == {404: 20, 429: 20}


@pytest.mark.django_db(transaction=True)
def test_forty_guessed_calendar_feeds_at_once_look_up_exactly_the_limit(shared_cache, settings):
    settings.BUYER_LINK_MISS_LIMIT = 20
    codes = at_once(
        lambda i: Client(REMOTE_ADDR=ADDRESS).get(f"/cal/{uuid.uuid4().hex}{i:08d}.ics").status_code
    )
    assert codes == {404: 20, 429: 20}


@pytest.mark.django_db(transaction=True)
def test_forty_guessed_invitations_at_once_look_up_exactly_the_limit(shared_cache, settings):
    settings.BUYER_LINK_MISS_LIMIT = 20
    codes = at_once(
        lambda i: (
            Client(REMOTE_ADDR=ADDRESS)
            .get(reverse("accounts:invitation_accept", args=[f"{uuid.uuid4().hex}{i:011d}"]))
            .status_code
        )
    )
    assert codes == {404: 20, 429: 20}


@pytest.mark.django_db(transaction=True)
def test_forty_api_requests_at_once_with_one_token_get_exactly_the_rate(shared_cache, settings):
    """The API's throttle counts atomically too (DRF's own reads a list of times and
    writes it back later, so requests at once all pass)."""
    from accounts.services import api_token_create
    from tests.factories import MembershipFactory

    settings.API_THROTTLE_RATE = "20/min"
    _, raw = api_token_create(membership=MembershipFactory(), name="load")
    codes = at_once(
        lambda i: Client(HTTP_AUTHORIZATION=f"Token {raw}").get("/api/v1/rooms/").status_code
    )
    assert codes == {200: 20, 429: 20}


@pytest.mark.django_db
def test_guessing_one_kind_of_link_uses_the_budget_of_every_kind(shared_cache, settings):
    """Buyer links, calendar feeds and invitations share one budget per client: a guesser
    cannot get 20 tries at each. A real invitation still opens, and does not count."""
    from accounts.models import Role
    from accounts.services import invitation_create
    from tests.factories import MembershipFactory

    admin = MembershipFactory(role=Role.ADMIN)
    settings.BUYER_LINK_MISS_LIMIT = 3
    client = Client(REMOTE_ADDR=ADDRESS)
    assert client.get(f"/b/{uuid.uuid4().hex}00000000000/").status_code == 404
    assert client.get(f"/cal/{uuid.uuid4().hex}00000000.ics").status_code == 404
    _, token = invitation_create(
        org=admin.org, invited_by=admin.user, email="new@example.com", role=Role.REP
    )
    assert client.get(reverse("accounts:invitation_accept", args=[token])).status_code == 200
    guess = reverse("accounts:invitation_accept", args=[uuid.uuid4().hex + "00000000000"])
    assert client.get(guess).status_code == 404
    refused = client.get(guess)
    assert refused.status_code == 429
    assert "Too many attempts" in refused.content.decode()
    assert 0 < int(refused["Retry-After"]) <= settings.BUYER_LINK_MISS_WINDOW


@pytest.mark.django_db(transaction=True)
def test_forty_wrong_sign_ins_from_one_client_check_exactly_the_limit(shared_cache, settings):
    settings.SIGN_IN_CLIENT_LIMIT = 10
    codes = at_once(
        lambda i: (
            Client(REMOTE_ADDR=ADDRESS)
            .post(LOGIN, {"username": f"guess{i}@example.com", "password": "wrong-password"})
            .status_code
        )
    )
    assert codes == {200: 10, 429: 30}


@pytest.mark.django_db(transaction=True)
def test_forty_wrong_passwords_for_one_email_check_exactly_the_limit(shared_cache, settings, owner):
    settings.SIGN_IN_FAILURE_LIMIT = 10
    codes = at_once(
        lambda i: (
            Client(REMOTE_ADDR=f"198.51.100.{i}")
            .post(LOGIN, {"username": owner.email, "password": "wrong-password"})
            .status_code
        )
    )
    assert codes == {200: 10, 429: 30}


@pytest.mark.django_db(transaction=True)
def test_forty_wrong_api_sign_ins_at_once_check_exactly_the_limit(shared_cache, settings):
    settings.SIGN_IN_CLIENT_LIMIT = 10
    settings.API_SIGNIN_RATE = "1000/min"  # the sign-in limit is what is tested here
    codes = at_once(
        lambda i: (
            Client(REMOTE_ADDR=ADDRESS)
            .post(
                API_SIGN_IN,
                {"email": f"guess{i}@example.com", "password": "wrong-password"},
                content_type="application/json",
            )
            .status_code
        )
    )
    assert codes == {400: 10, 429: 30}


@pytest.mark.django_db(transaction=True)
def test_forty_password_resets_at_once_send_exactly_the_limit(shared_cache, settings, owner):
    settings.PASSWORD_RESET_LIMIT = 5
    codes = at_once(
        lambda i: Client(REMOTE_ADDR=ADDRESS).post(RESET, {"email": owner.email}).status_code
    )
    assert codes == {302: 5, 429: 35}
    assert len(mail.outbox) == 5


WORKER = """
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mapsite.settings")
import django
django.setup()
from accounts.throttle import TOKEN_GUESSES
go, key, tries = sys.argv[1], sys.argv[2], int(sys.argv[3])
while not os.path.exists(go):
    time.sleep(0.005)
print(sum(TOKEN_GUESSES.attempt(key) for _ in range(tries)))
"""


@pytest.mark.parametrize("backend", ["file", "redis"])
def test_several_processes_share_one_exact_count(backend, settings, tmp_path):
    """Four processes (as four web workers would be) try 15 times each at once."""
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(MAPSITE_DATA_DIR=str(tmp_path / "data"), BUYER_LINK_MISS_LIMIT="20")
    if backend == "redis":
        if not settings.REDIS_URL:
            pytest.skip("no Redis configured (REDIS_URL is not set)")
        env["REDIS_URL"] = settings.REDIS_URL
    go, key = tmp_path / "go", f"proc-{uuid.uuid4().hex}"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, str(go), key, "15"],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    time.sleep(1)  # let them start (the count is exact whatever this does)
    go.write_text("")
    results = [w.communicate(timeout=120) for w in workers]
    assert [w.returncode for w in workers] == [0] * 4, [err for _, err in results]
    assert sum(int(out) for out, _ in results) == 20


def test_the_embedded_default_counts_with_an_atomic_increment(embedded_backend, settings, tmp_path):
    """The file cache's own incr is a get and a set; the embedded default's is not."""
    settings.CACHES = {
        "default": {"BACKEND": embedded_backend, "LOCATION": str(tmp_path / "cache")}
    }
    cache.clear()
    cache.add("counter", 0, timeout=600)
    counts = at_once(lambda i: max(cache.incr("counter") for _ in range(10)), n=8)
    assert cache.get("counter") == 80
    assert max(counts) == 80
    # The window set by add() is kept: incr() does not restart it.
    with open(cache._key_to_file("counter"), "rb") as fh:  # noqa: SLF001
        expiry = pickle.load(fh)
    assert time.time() + 590 < expiry <= time.time() + 600


# --- behind a proxy ----------------------------------------------------------------------------


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SIGN_IN_CLIENT_LIMIT = 3
    settings.SIGN_IN_FAILURE_LIMIT = 100
    settings.PASSWORD_RESET_LIMIT = 2
    return "10.0.0.1"


def via(proxy, forwarded_for):
    return Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=forwarded_for)


@pytest.mark.django_db
def test_two_clients_behind_one_proxy_do_not_lock_each_other_out(behind_one_proxy, owner):
    proxy = behind_one_proxy
    for n in range(3):
        via(proxy, ADDRESS).post(LOGIN, {"username": f"g{n}@example.com", "password": "x"})
    blocked = via(proxy, ADDRESS).post(LOGIN, {"username": owner.email, "password": PASSWORD})
    assert blocked.status_code == 429
    other = via(proxy, "198.51.100.2").post(LOGIN, {"username": owner.email, "password": PASSWORD})
    assert other.status_code == 302


@pytest.mark.django_db
def test_a_forged_forwarded_entry_does_not_pick_the_key(behind_one_proxy, owner):
    proxy = behind_one_proxy
    for n in range(3):  # the client prepends a different fake address every time
        via(proxy, f"192.0.2.{n}, {ADDRESS}").post(
            LOGIN, {"username": f"g{n}@example.com", "password": "x"}
        )
    forged = via(proxy, f"192.0.2.99, {ADDRESS}")
    assert forged.post(LOGIN, {"username": owner.email, "password": PASSWORD}).status_code == 429
    # Nor can it pose as another client to lock that one out.
    assert (
        via(proxy, "198.51.100.2")
        .post(LOGIN, {"username": owner.email, "password": PASSWORD})
        .status_code
        == 302
    )


@pytest.mark.django_db
def test_password_resets_behind_one_proxy_are_counted_per_client(behind_one_proxy, owner):
    proxy = behind_one_proxy
    for _ in range(2):
        assert via(proxy, ADDRESS).post(RESET, {"email": owner.email}).status_code == 302
    assert via(proxy, ADDRESS).post(RESET, {"email": owner.email}).status_code == 429
    assert via(proxy, "198.51.100.2").post(RESET, {"email": owner.email}).status_code == 302


@pytest.mark.django_db
def test_reaching_a_limit_logs_the_address_it_counted(behind_one_proxy, caplog):
    proxy = behind_one_proxy
    with caplog.at_level("WARNING", logger="accounts.throttle"):
        for n in range(4):
            via(proxy, f"192.0.2.9, {ADDRESS}").post(
                LOGIN, {"username": f"g{n}@example.com", "password": "x"}
            )
    lines = [r.getMessage() for r in caplog.records if r.name == "accounts.throttle"]
    assert len(lines) == 1
    assert ADDRESS in lines[0] and "192.0.2.9" not in lines[0] and proxy not in lines[0]
    assert "g3@example.com" not in lines[0]


# --- configuration: compose passes the settings, the docs list them ---------------------------


def limit_settings():
    names = []
    for module in (accounts.throttle, api.throttling):
        for value in vars(module).values():
            if isinstance(value, Limiter):
                names += [n for n in (value.limit_setting, value.window_setting) if n]
    return sorted(set(names))


def test_compose_passes_the_proxy_count_and_every_limit():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    environment = compose["x-app"]["environment"]
    assert environment["TRUSTED_PROXY_COUNT"] == "${TRUSTED_PROXY_COUNT:-1}"
    names = limit_settings()
    assert len(names) == 9  # the API's two rates included
    for name in names:
        assert environment.get(name) == f"${{{name}:-}}", name


def test_the_operations_guide_lists_them_and_says_how_to_set_the_count():
    guide = (ROOT / "docs" / "OPERATIONS.md").read_text()
    table = guide.split("## Environment variables", 1)[1].split("\n## ", 1)[0]
    for name in [*limit_settings(), "TRUSTED_PROXY_COUNT"]:
        assert f"`{name}`" in table, name
    security = guide.split("\n## Security", 1)[1]
    assert "### Rate limits behind a proxy" in security
