"""The buyer's way in, against the security bar: the link starts a token-free session,
revocation and expiry bite on the next request, bad tokens are 404 and rate-limited,
buyer pages carry their protective headers, state changes are CSRF-protected POSTs,
and the raw token reaches no log and no page."""

import datetime
import json
import logging
import re
import time
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import Comment, Milestone, Plan, Task, TaskStatus
from rooms.actors import Actor
from stakeholders import links
from stakeholders.models import AccessLink, Side, ViewEvent
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
ROOM = "/b/room/"
UNKNOWN = "A" * 43  # well-formed, but no link has it


@pytest.fixture(autouse=True)
def _own_cache(settings, tmp_path):
    """A shared (file) cache of this test's own, like every web process would share."""
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": "mapsite.cache.LockingFileBasedCache",
            "LOCATION": str(tmp_path / "cache"),
        },
    }
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def buyer(room):
    return StakeholderFactory(room=room, name="Maria Lopez", email="maria@acme.example")


@pytest.fixture
def task(room, buyer):
    plan = PlanFactory(room=room, org=room.org)
    return TaskFactory(milestone=MilestoneFactory(plan=plan), owner=buyer, title="Sign the DPA")


@pytest.fixture
def issued(buyer, owner):
    return links.link_issue(actor=Actor(user=owner), room=buyer.room, stakeholder=buyer)


@pytest.fixture
def link(issued):
    return issued[0]


@pytest.fixture
def token(issued):
    return issued[1]


@pytest.fixture
def buyer_client(token):
    return open_link(token)


def open_url(token):
    return f"/b/{token}/"


def open_link(token, client=None):
    client = client or Client()
    response = client.get(open_url(token))
    assert response.status_code == 303, response.status_code
    return client


def revoke(link):
    AccessLink.objects.filter(pk=link.pk).update(revoked_at=timezone.now())


def expire(link):
    AccessLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() - datetime.timedelta(seconds=1)
    )
    # A page read may keep the link for a few seconds and checks its expiry on that
    # copy (tests/rooms/test_render_cache.py moves the clock instead); a row changed
    # behind the services' back is read again once the copy is gone.
    links.forget_links([link.pk])


def assert_buyer_headers(response):
    assert response["Referrer-Policy"] == "no-referrer"
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert response["Cache-Control"] == "no-store"
    csp = response["Content-Security-Policy"]
    directives = {}
    for part in csp.split(";"):
        name, *sources = part.split()
        directives[name] = sources
    assert directives["default-src"] == ["'self'"]
    assert directives["frame-ancestors"] == ["'none'"]
    allowed = {"'self'", "'none'", "data:"}
    for name, sources in directives.items():
        assert set(sources) <= allowed, (name, sources)  # no third-party origin, no *
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


# --- opening a link ------------------------------------------------------------------------


def test_valid_link_redirects_303_to_a_token_free_url(token):
    response = Client().get(open_url(token))
    assert response.status_code == 303
    assert response["Location"] == ROOM
    assert token not in response["Location"]


def test_opening_a_link_starts_a_new_session(token):
    client = Client()
    client.get(ROOM)  # whatever session the browser had before
    client.session.save()
    session = client.session
    session["something"] = "before"
    session.save()
    client.cookies["sessionid"] = session.session_key
    before = client.cookies["sessionid"].value
    open_link(token, client)
    after = client.cookies["sessionid"].value
    assert after and after != before


def test_opening_the_same_link_again_cycles_the_session_again(token):
    client = open_link(token)
    first = client.cookies["sessionid"].value
    open_link(token, client)
    assert client.cookies["sessionid"].value != first


def test_the_session_is_bound_to_that_one_link(token, link):
    client = open_link(token)
    assert client.session[links.SESSION_KEY] == str(link.pk)
    assert token not in json.dumps(dict(client.session))
    html = client.get(ROOM).content.decode()
    assert "Maria Lopez" in html


def test_opening_another_link_switches_the_session_to_it(owner, buyer, token, room):
    colleague = StakeholderFactory(room=room, name="Dev Patel")
    other_link, other_token = links.link_issue(
        actor=Actor(user=owner), room=room, stakeholder=colleague
    )
    client = open_link(token)
    open_link(other_token, client)
    assert client.session[links.SESSION_KEY] == str(other_link.pk)
    assert '<span class="who">Dev Patel</span>' in client.get(ROOM).content.decode()


def test_the_room_without_a_session_is_404():
    assert Client().get(ROOM).status_code == 404


def test_posting_to_an_active_link_does_not_start_a_session(token):
    client = Client()
    response = client.post(open_url(token), {"email": "x@example.com"})
    assert response.status_code == 302
    assert links.SESSION_KEY not in client.session
    assert client.get(ROOM).status_code == 404


def test_leaving_ends_the_buyer_session(buyer_client):
    response = buyer_client.post(reverse("buyer:leave"))
    assert response.status_code == 200
    assert "You have left the room" in response.content.decode()
    assert buyer_client.get(ROOM).status_code == 404


# --- revocation and expiry bite on the next request ---------------------------------------------


def test_revocation_takes_effect_on_the_next_request_of_an_open_session(
    buyer_client, link, owner, django_capture_on_commit_callbacks
):
    assert buyer_client.get(ROOM).status_code == 200
    with django_capture_on_commit_callbacks(execute=True):  # the revocation commits
        links.link_revoke(actor=Actor(user=owner), room=link.room, link_id=link.pk)
    response = buyer_client.get(ROOM)
    assert response.status_code == 410
    html = response.content.decode()
    assert "This link no longer works" in html
    assert owner.display_name in html and owner.email in html  # whom to ask
    assert 'name="email"' not in html  # no refresh form for a revoked link


def test_expiry_takes_effect_on_the_next_request_of_an_open_session(buyer_client, link, owner):
    assert buyer_client.get(ROOM).status_code == 200
    expire(link)
    response = buyer_client.get(ROOM)
    assert response.status_code == 410
    html = response.content.decode()
    assert "It has expired" in html
    assert owner.display_name in html


def test_revoked_session_cannot_change_anything(buyer_client, link, task):
    revoke(link)
    response = buyer_client.post(
        reverse("buyer:task_save", args=[task.pk]),
        {"_field": "status", "status": "done", "version": task.version},
        **HX,
    )
    assert response.status_code == 410
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_revoked_session_cannot_comment(buyer_client, link, task):
    revoke(link)
    response = buyer_client.post(
        reverse("buyer:comment_add", args=[task.pk]), {"body": "hello"}, **HX
    )
    assert response.status_code == 410
    assert not Comment.objects.exists()


def test_expired_session_cannot_agree(buyer_client, link, task):
    expire(link)
    assert buyer_client.post(reverse("buyer:agree")).status_code == 410
    assert Plan.objects.get().agreed_at is None


def test_a_click_inside_the_page_after_revocation_reloads_it(buyer_client, link, task):
    revoke(link)
    response = buyer_client.post(reverse("buyer:task_viewed", args=[task.pk]), **HX)
    assert response.status_code == 410
    assert response["HX-Refresh"] == "true"
    assert not ViewEvent.objects.filter(kind=ViewEvent.Kind.TASK).exists()


def test_revoked_link_opened_again_is_410(token, link):
    revoke(link)
    response = Client().get(open_url(token))
    assert response.status_code == 410
    assert "withdrawn" in response.content.decode()


def test_expired_link_opened_again_is_410_and_starts_no_session(token, link):
    expire(link)
    client = Client()
    assert client.get(open_url(token)).status_code == 410
    assert client.get(ROOM).status_code == 404
    assert not ViewEvent.objects.exists()


def test_deleting_the_stakeholder_ends_their_session(buyer_client, buyer):
    buyer.delete()
    assert buyer_client.get(ROOM).status_code == 404


# --- unknown and malformed tokens -----------------------------------------------------------


def test_unknown_token_is_404():
    response = Client().get(open_url(UNKNOWN))
    assert response.status_code == 404
    assert "We couldn't find that" in response.content.decode()


@pytest.mark.parametrize(
    "path",
    [
        "/b/" + "a" * 5000 + "/",  # far too long
        "/b/" + "a" * 44 + "/",  # one too many
        "/b/" + quote("ключ-" * 9) + "/",  # non-ASCII, percent-encoded UTF-8
        "/b/" + quote("٣" * 43) + "/",  # 43 non-ASCII digits
        "/b/%C3%28" + "a" * 41 + "/",  # invalid UTF-8
        "/b/%00" + "a" * 42 + "/",  # a NUL byte
        "/b/a.b.c/",
        "/b/../",
        "/b/.well-known/",
        "/b/abc/def/",
        "/b/" + "a" * 20 + "/" + "a" * 22 + "/",  # a slash inside
        "/b/" + "a" * 42 + "=/",
        "/b/" + "a" * 42 + " /",
        "/b/%20/",
    ],
)
def test_malformed_tokens_are_404_never_500(path):
    client = Client(raise_request_exception=False)
    assert client.get(path).status_code == 404
    assert client.post(path, {"email": "maria@acme.example"}).status_code == 404


def test_truncated_token_is_404(token):
    assert Client().get(open_url(token[:42])).status_code == 404


def test_token_with_a_character_changed_is_404(token):
    changed = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert Client().get(open_url(changed)).status_code == 404


def test_token_in_other_case_is_404(token):
    swapped = token.swapcase()
    if swapped == token:  # pragma: no cover - a token of digits and dashes only
        pytest.skip("nothing to swap")
    assert Client().get(open_url(swapped)).status_code == 404


def test_the_stored_hash_does_not_open_the_room(link):
    assert Client().get(open_url(link.token_hash)).status_code == 404


def test_link_preview_head_request_starts_no_session(token):
    client = Client()
    response = client.head(open_url(token))
    assert response.status_code in (200, 303, 405)
    assert links.SESSION_KEY not in client.session
    assert not ViewEvent.objects.exists()


# --- guessing is rate-limited per client address -------------------------------------------------


def miss(client, n=1):
    for i in range(n):
        assert client.get(open_url(f"{i:043d}")).status_code == 404


def test_twenty_misses_then_429_even_with_a_valid_token(token):
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client, 20)
    response = client.get(open_url(token))
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert links.SESSION_KEY not in client.session


def test_nineteen_misses_do_not_block_a_valid_token(token):
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client, 19)
    assert client.get(open_url(token)).status_code == 303


def test_the_limit_counts_misses_from_one_address_only(token):
    miss(Client(REMOTE_ADDR="203.0.113.7"), 20)
    assert Client(REMOTE_ADDR="198.51.100.2").get(open_url(token)).status_code == 303


def test_malformed_tokens_count_as_misses(token):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for i in range(20):
        client.get(open_url("x" * (i + 1)))
    assert client.get(open_url(token)).status_code == 429


def test_valid_opens_do_not_count_as_misses(token):
    client = Client(REMOTE_ADDR="203.0.113.7")
    for _ in range(25):
        assert client.get(open_url(token)).status_code == 303


def test_the_count_lives_in_the_shared_cache(token):
    miss(Client(REMOTE_ADDR="203.0.113.7"), 20)
    # Another process sees the same counter: a cache client of its own, same store.
    from asgiref.local import Local
    from django.core.cache import caches

    caches._connections = Local()  # fresh cache objects, as in another process
    assert Client(REMOTE_ADDR="203.0.113.7").get(open_url(token)).status_code == 429
    cache.clear()
    assert Client(REMOTE_ADDR="203.0.113.7").get(open_url(token)).status_code == 303


@pytest.fixture(
    params=["mapsite.cache.LockingFileBasedCache", "django.core.cache.backends.locmem.LocMemCache"]
)
def any_cache(request, settings, tmp_path):
    settings.CACHES = {
        **settings.CACHES,
        "default": {
            "BACKEND": request.param,
            "LOCATION": str(tmp_path / "window-cache"),
        },
    }
    cache.clear()


def test_misses_are_remembered_for_the_whole_window(token, monkeypatch, settings, any_cache):
    assert settings.BUYER_LINK_MISS_WINDOW == 600
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client, 20)
    clock[0] += 400  # later than any default cache timeout, inside the ten minutes
    assert client.get(open_url(token)).status_code == 429
    clock[0] += 201  # the window has passed
    assert client.get(open_url(token)).status_code == 303


def test_the_window_starts_with_the_first_miss(token, monkeypatch, any_cache):
    clock = [time.time()]
    monkeypatch.setattr(time, "time", lambda: clock[0])
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client)
    clock[0] += 590
    miss(client, 19)
    assert client.get(open_url(token)).status_code == 429
    clock[0] += 11  # ten minutes after the first miss: a new window
    assert client.get(open_url(token)).status_code == 303


def test_forwarded_for_is_ignored_without_trusted_proxies(token, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    for i in range(20):
        Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}").get(open_url(UNKNOWN))
    # Rotating a spoofed header does not escape the limit.
    response = Client(REMOTE_ADDR="203.0.113.7", HTTP_X_FORWARDED_FOR="10.9.9.9").get(
        open_url(token)
    )
    assert response.status_code == 429


def test_behind_one_proxy_the_forwarded_address_is_counted(token, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    miss(Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7"), 20)
    blocked = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="203.0.113.7")
    assert blocked.get(open_url(token)).status_code == 429
    # Another client behind the same proxy is unaffected.
    other = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="198.51.100.2")
    assert other.get(open_url(token)).status_code == 303


def test_behind_one_proxy_only_the_last_forwarded_entry_is_trusted(token, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = "10.0.0.1"
    for i in range(20):  # the client prepends a fake entry each time
        Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR=f"1.1.1.{i}, 203.0.113.7").get(
            open_url(UNKNOWN)
        )
    client = Client(REMOTE_ADDR=proxy, HTTP_X_FORWARDED_FOR="1.1.1.99, 203.0.113.7")
    assert client.get(open_url(token)).status_code == 429


# --- headers and cookies -------------------------------------------------------------------------


def test_room_page_headers(buyer_client, task):
    response = buyer_client.get(ROOM)
    assert response.status_code == 200
    assert_buyer_headers(response)


def test_open_redirect_headers(token):
    response = Client().get(open_url(token))
    assert response.status_code == 303
    assert_buyer_headers(response)


def test_revoked_page_headers(token, link):
    revoke(link)
    response = Client().get(open_url(token))
    assert response.status_code == 410
    assert_buyer_headers(response)


def test_expired_page_headers(token, link):
    expire(link)
    response = Client().get(open_url(token))
    assert response.status_code == 410
    assert_buyer_headers(response)


def test_gone_session_headers(buyer_client, link):
    revoke(link)
    response = buyer_client.get(ROOM)
    assert response.status_code == 410
    assert_buyer_headers(response)


def test_unknown_token_headers():
    response = Client().get(open_url(UNKNOWN))
    assert response.status_code == 404
    assert_buyer_headers(response)


def test_no_session_headers():
    response = Client().get(ROOM)
    assert response.status_code == 404
    assert_buyer_headers(response)


def test_rate_limited_headers(token):
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client, 20)
    response = client.get(open_url(token))
    assert response.status_code == 429
    assert_buyer_headers(response)


def test_task_outside_the_room_headers(buyer_client, room):
    response = buyer_client.post(reverse("buyer:task_viewed", args=[room.pk]))
    assert response.status_code == 404
    assert_buyer_headers(response)


@pytest.mark.parametrize(
    "name", ["buyer:task_save", "buyer:comment_add", "buyer:task_viewed", "buyer:task_add"]
)
def test_partials_and_saves_carry_the_headers(buyer_client, task, name):
    pk = task.milestone_id if name == "buyer:task_add" else task.pk
    data = {"_field": "status", "status": "done", "version": 1, "body": "ok", "title": "New"}
    response = buyer_client.post(reverse(name, args=[pk]), data, **HX)
    assert response.status_code in (200, 204)
    assert_buyer_headers(response)


def test_leave_page_headers(buyer_client):
    assert_buyer_headers(buyer_client.post(reverse("buyer:leave")))


def test_buyer_page_cannot_be_framed(buyer_client):
    response = buyer_client.get(ROOM)
    assert response["X-Frame-Options"] == "DENY"


def test_session_cookie_is_httponly_and_samesite_lax(token):
    response = Client().get(open_url(token))
    cookie = response.cookies["sessionid"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert not cookie["secure"]  # plain HTTP in the embedded default


def test_session_cookie_is_secure_in_production(token, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = Client().get(open_url(token))
    cookie = response.cookies["sessionid"]
    assert cookie["secure"] is True
    assert cookie["httponly"] is True and cookie["samesite"] == "Lax"


def test_production_settings_make_cookies_secure(monkeypatch):
    import importlib

    import mapsite.settings as live

    monkeypatch.setenv("SECURE_COOKIES", "")
    monkeypatch.setenv("MAPSITE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "x" * 50)
    monkeypatch.setenv("ALLOWED_HOSTS", "rooms.example.com")
    monkeypatch.setenv("SITE_URL", "https://rooms.example.com")
    monkeypatch.setenv("DATABASE_URL", "postgres://u@127.0.0.1:5432/db")
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:6379/0")
    try:
        prod = importlib.reload(live)
        assert prod.SESSION_COOKIE_SECURE is True
        assert prod.SESSION_COOKIE_HTTPONLY is True
        assert prod.SESSION_COOKIE_SAMESITE == "Lax"
        assert prod.CACHES["default"]["BACKEND"].endswith("RedisCache")
    finally:
        monkeypatch.undo()
        importlib.reload(live)


def test_buyer_pages_use_no_inline_script_or_style(buyer_client, task):
    html = buyer_client.get(ROOM).content.decode()
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # every script is a file
    assert not re.search(r"<style\b", html)
    assert not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert "hx-on" not in html


def test_buyer_pages_load_nothing_from_other_origins(buyer_client, task):
    html = buyer_client.get(ROOM).content.decode()
    for url in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"(?:[a-z]+:)?//", url) or url.startswith("mailto:"), url


# --- state changes are POSTs with CSRF protection ------------------------------------------------


@pytest.mark.parametrize(
    "name,arg",
    [
        ("buyer:task_save", "task"),
        ("buyer:comment_add", "task"),
        ("buyer:task_viewed", "task"),
        ("buyer:task_add", "milestone"),
        ("buyer:milestone_add", None),
        ("buyer:agree", None),
        ("buyer:leave", None),
    ],
)
def test_state_changes_refuse_get(buyer_client, task, name, arg):
    args = {"task": [task.pk], "milestone": [task.milestone_id], None: []}[arg]
    assert buyer_client.get(reverse(name, args=args)).status_code == 405
    assert buyer_client.get(ROOM).status_code == 200  # still in the room


def csrf_client(token):
    client = Client(enforce_csrf_checks=True)
    open_link(token, client)
    html = client.get(ROOM).content.decode()
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    return client, csrf, html


def test_htmx_requests_carry_the_csrf_token(token, task):
    _, csrf, html = csrf_client(token)
    headers = json.loads(re.search(r"hx-headers='([^']+)'", html).group(1))
    assert headers["X-CSRFToken"]


def test_task_save_without_csrf_token_is_403(token, task):
    client, _, _ = csrf_client(token)
    data = {"_field": "status", "status": "done", "version": 1}
    response = client.post(reverse("buyer:task_save", args=[task.pk]), data, **HX)
    assert response.status_code == 403
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED


def test_task_save_with_the_pages_csrf_token_works(token, task):
    client, csrf, _ = csrf_client(token)
    data = {"_field": "status", "status": "done", "version": 1}
    response = client.post(
        reverse("buyer:task_save", args=[task.pk]), data, HTTP_X_CSRFTOKEN=csrf, **HX
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE


def test_form_post_with_the_pages_csrf_field_works(token, task):
    client, csrf, _ = csrf_client(token)
    response = client.post(
        reverse("buyer:comment_add", args=[task.pk]),
        {"body": "Signed.", "csrfmiddlewaretoken": csrf},
    )
    assert response.status_code == 302
    assert Comment.objects.get().body == "Signed."


def test_no_referrer_origin_null_still_needs_the_token(token, task):
    client, csrf, _ = csrf_client(token)
    url = reverse("buyer:comment_add", args=[task.pk])
    assert client.post(url, {"body": "x"}, HTTP_ORIGIN="null").status_code == 403
    response = client.post(url, {"body": "x"}, HTTP_ORIGIN="null", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 302
    assert Comment.objects.count() == 1


def test_post_from_another_origin_is_refused_even_with_the_token(token, task):
    client, csrf, _ = csrf_client(token)
    response = client.post(
        reverse("buyer:comment_add", args=[task.pk]),
        {"body": "x"},
        HTTP_ORIGIN="https://evil.example",
        HTTP_X_CSRFTOKEN=csrf,
    )
    assert response.status_code == 403
    assert not Comment.objects.exists()


@pytest.mark.parametrize(
    "name,arg",
    [
        ("buyer:comment_add", "task"),
        ("buyer:task_viewed", "task"),
        ("buyer:task_add", "milestone"),
        ("buyer:milestone_add", None),
        ("buyer:agree", None),
        ("buyer:leave", None),
    ],
)
def test_every_state_change_needs_the_csrf_token(token, task, name, arg):
    client, _, _ = csrf_client(token)
    args = {"task": [task.pk], "milestone": [task.milestone_id], None: []}[arg]
    data = {"body": "x", "title": "Sneaky"}
    assert client.post(reverse(name, args=args), data).status_code == 403
    assert not Comment.objects.exists()
    assert not Task.objects.filter(title="Sneaky").exists()
    assert not Milestone.objects.filter(title="Sneaky").exists()
    assert Plan.objects.get().agreed_at is None
    assert not ViewEvent.objects.filter(kind=ViewEvent.Kind.TASK).exists()
    assert client.get(ROOM).status_code == 200  # still signed in


def test_refresh_form_needs_the_csrf_token(token, link):
    expire(link)
    client = Client(enforce_csrf_checks=True)
    html = client.get(open_url(token)).content.decode()
    assert client.post(open_url(token), {"email": "maria@acme.example"}).status_code == 403
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    response = client.post(
        open_url(token), {"email": "maria@acme.example", "csrfmiddlewaretoken": csrf}
    )
    assert response.status_code == 410 and "Check your email" in response.content.decode()


# --- the raw token never appears in logs or pages -------------------------------------------------


def test_token_is_not_logged_when_a_revoked_link_is_opened(token, link, caplog):
    revoke(link)
    caplog.set_level(logging.DEBUG)
    Client().get(open_url(token))
    Client().post(open_url(token), {"email": "maria@acme.example"})
    assert token not in caplog.text


def test_log_capture_sees_buyer_requests(caplog):
    # The control for the tests above: a 404 without a token is logged, with its path.
    caplog.set_level(logging.DEBUG)
    Client().get(ROOM)
    assert "Not Found: /b/room/" in caplog.text


def test_token_is_not_logged_when_an_expired_link_is_opened(token, link, caplog):
    expire(link)
    caplog.set_level(logging.DEBUG)
    Client().get(open_url(token))
    Client().post(open_url(token), {"email": "maria@acme.example"})
    Client().post(open_url(token), {"email": "someone@else.example"})
    assert token not in caplog.text


def test_token_is_not_logged_when_an_unknown_token_is_opened(caplog):
    caplog.set_level(logging.DEBUG)
    Client().get(open_url(UNKNOWN))
    Client().get(open_url(UNKNOWN[:42]))
    assert UNKNOWN[:42] not in caplog.text


def test_token_is_not_logged_when_rate_limited(token, caplog):
    client = Client(REMOTE_ADDR="203.0.113.7")
    miss(client, 20)
    caplog.set_level(logging.DEBUG)
    assert client.get(open_url(token)).status_code == 429
    assert token not in caplog.text


def test_token_is_not_logged_on_a_method_not_allowed(token, caplog):
    caplog.set_level(logging.DEBUG)
    for method in ("head", "put", "delete", "options"):
        getattr(Client(), method)(open_url(token))
    assert token not in caplog.text


def test_token_is_not_logged_when_a_valid_link_is_opened(token, caplog):
    caplog.set_level(logging.DEBUG)
    open_link(token)
    assert token not in caplog.text


def test_token_is_on_no_page_the_buyer_sees(token, link, task):
    client = Client()
    pages = [client.get(open_url(token))]
    pages.append(client.get(ROOM))
    pages.append(
        client.post(
            reverse("buyer:comment_add", args=[task.pk]), {"body": "hi"}, HTTP_HX_REQUEST="true"
        )
    )
    expire(link)
    pages.append(client.get(ROOM))
    pages.append(Client().get(open_url(token)))
    pages.append(Client().post(open_url(token), {"email": "maria@acme.example"}))
    revoke(link)
    pages.append(Client().get(open_url(token)))
    for response in pages:
        assert token not in response.content.decode(), response.status_code
        assert token not in response.get("Location", "")


# --- side notes on the session -------------------------------------------------------------


def test_a_buyer_of_one_side_only_is_a_buyer(owner, room):
    seller = StakeholderFactory(room=room, side=Side.SELLER)
    with pytest.raises(Exception, match="your team signs in"):
        links.link_issue(actor=Actor(user=owner), room=room, stakeholder=seller)
