"""Production headers: one Content-Security-Policy mechanism (Django's) on every page,
HSTS and the HTTPS redirect behind a TLS proxy (but /healthz over plain HTTP), and
`manage.py check --deploy` clean in production."""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from rooms.actors import Actor
from stakeholders import links
from tests.conftest import login
from tests.factories import StakeholderFactory, UserFactory

BASE_DIR = Path(__file__).resolve().parent.parent


def directives(response):
    policy = response["Content-Security-Policy"]
    out = {}
    for part in policy.split(";"):
        name, *sources = part.split()
        out[name] = sources
    return out


def assert_strict(response):
    policy = directives(response)
    assert policy["default-src"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'none'"]
    for name in ("script-src", "style-src"):
        sources = policy[name]
        assert "'unsafe-inline'" not in sources and "'unsafe-eval'" not in sources
        assert set(sources) - {"'self'"} <= {s for s in sources if s.startswith("'nonce-")}
    return policy


# --- CSP on every page ---------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path",
    [
        "/accounts/members/",
        "/rooms/",
        "/dashboard/",
        "/accounts/password/",
        "/accounts/api-tokens/",
        "/api/v1/docs/",
        "/no-such-page/",
    ],
)
def test_seller_pages_carry_the_policy(owner, path):
    response = login(owner).get(path)
    assert response.status_code in (200, 404)
    assert_strict(response)


@pytest.mark.django_db
def test_the_room_page_carries_the_policy(owner_client, room):
    assert_strict(owner_client.get(reverse("plans:room", args=[room.pk])))


@pytest.mark.django_db
def test_the_admin_carries_the_policy_with_a_nonce_for_its_inline_scripts(owner):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    admin = login(superuser)
    assert_strict(Client().get("/admin/login/"))
    response = admin.get("/admin/accounts/user/")  # a changelist has inline <style>
    policy = assert_strict(response)
    html = response.content.decode()
    nonces = set(re.findall(r'nonce="([^"]+)"', html))
    assert nonces, "the admin page uses no nonce?"
    (nonce,) = nonces
    assert f"'nonce-{nonce}'" in policy["script-src"]
    assert f"'nonce-{nonce}'" in policy["style-src"]
    # A fresh nonce on every response.
    again = admin.get("/admin/accounts/user/").content.decode()
    assert nonce not in again


@pytest.mark.django_db
def test_error_pages_carry_the_policy(monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("mapsite.urls.HttpResponse", fail)  # /healthz raises
    response = Client(raise_request_exception=False).get("/healthz")
    assert response.status_code == 500
    assert_strict(response)
    assert_strict(Client().get("/b/room/no-such-page/"))  # the buyer's 404
    assert_strict(Client().get("/accounts/login/"))


@pytest.mark.django_db
def test_buyer_pages_get_the_same_policy_without_any_nonce(room):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    response = client.get(reverse("buyer:room"))
    assert response.status_code == 200
    policy = assert_strict(response)
    assert policy["script-src"] == ["'self'"] and policy["style-src"] == ["'self'"]


@pytest.mark.django_db
def test_one_setting_makes_every_page_s_policy(settings, owner, room):
    """Seller, admin and buyer pages all follow settings.SECURE_CSP (Django's middleware)."""
    assert "django.middleware.csp.ContentSecurityPolicyMiddleware" in settings.MIDDLEWARE
    settings.SECURE_CSP = {**settings.SECURE_CSP, "upgrade-insecure-requests": True}
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=maria)
    buyer = Client()
    buyer.get(reverse("buyer:open", args=[token]))
    for response in (
        login(owner).get("/rooms/"),
        Client().get("/admin/login/"),
        Client().get("/api/v1/docs/"),
        buyer.get(reverse("buyer:room")),
        Client().get("/b/room/no-such-page/"),
    ):
        assert "upgrade-insecure-requests" in directives(response), response


# --- HSTS and the HTTPS redirect behind a TLS proxy -----------------------------------------


@pytest.fixture
def behind_proxy(settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = False


@pytest.mark.django_db
def test_plain_http_is_redirected_but_healthz_answers(behind_proxy):
    response = Client().get("/accounts/login/")
    assert response.status_code == 301
    assert response["Location"] == "https://testserver/accounts/login/"
    health = Client().get("/healthz")
    assert health.status_code == 200 and health.content == b"ok"


@pytest.mark.django_db
def test_https_answers_carry_hsts(behind_proxy):
    response = Client().get("/accounts/login/", HTTP_X_FORWARDED_PROTO="https")
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def settings_in(env):
    """Settings as a fresh process computes them from ``env`` (on top of a clean one)."""
    names = [
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SECURE_HSTS_PRELOAD",
        "SECURE_SSL_REDIRECT",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_REDIRECT_EXEMPT",
    ]
    code = (
        "import json, django; from django.conf import settings; django.setup(); "
        f"print(json.dumps({{n: getattr(settings, n, None) for n in {names!r}}}))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=BASE_DIR, capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def clean_env(tmp_path, **extra):
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SECURE_", "BEHIND_", "MAPSITE_", "DATABASE_", "REDIS_"))
        # The browser tests allow sync ORM calls beside Playwright's loop in this process.
        and k != "DJANGO_ALLOW_ASYNC_UNSAFE"
    }
    env.update(DJANGO_SETTINGS_MODULE="mapsite.settings", MAPSITE_DATA_DIR=str(tmp_path))
    env.update(extra)
    return env


def production_env(tmp_path, **extra):
    return clean_env(
        tmp_path,
        MAPSITE_ENV="production",
        SECRET_KEY="q" * 10 + "Zx8-vN2kLp0_Rt5wYb7cMd3Hf6Gj9Sa1Ue4Io" + "k" * 20,
        DATABASE_URL="postgres://mapsite:secret@127.0.0.1:5432/mapsite",
        REDIS_URL="redis://127.0.0.1:6379/0",
        ALLOWED_HOSTS="rooms.example.com",
        SITE_URL="https://rooms.example.com",
        BEHIND_TLS_PROXY="true",
        SECURE_COOKIES="true",
        **extra,
    )


def test_embedded_default_has_no_hsts_and_no_redirect(tmp_path):
    values = settings_in(clean_env(tmp_path))
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SECURE_SSL_REDIRECT"] is False


def test_production_behind_a_proxy_has_hsts_and_the_redirect(tmp_path):
    values = settings_in(production_env(tmp_path))
    assert values["SECURE_HSTS_SECONDS"] == 31536000
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SECURE_HSTS_PRELOAD"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert any(re.match(p, "healthz") for p in values["SECURE_REDIRECT_EXEMPT"])


def test_hsts_is_configurable(tmp_path):
    values = settings_in(
        production_env(
            tmp_path,
            SECURE_HSTS_SECONDS="600",
            SECURE_HSTS_INCLUDE_SUBDOMAINS="false",
            SECURE_HSTS_PRELOAD="true",
        )
    )
    assert values["SECURE_HSTS_SECONDS"] == 600
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is False
    assert values["SECURE_HSTS_PRELOAD"] is True


def test_check_deploy_is_clean_in_production(tmp_path):
    out = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        env=production_env(tmp_path),
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "no issues" in out.stdout, out.stdout + out.stderr


def test_no_page_template_carries_an_inline_style():
    """The policy allows no style attribute: what a page needs is a class in the CSS.
    (The PDF's template is read by the PDF renderer, not a browser; an email's HTML by
    a mail client, where inline CSS is the only CSS that works, mapsite.emails.)"""
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        if path.name == "pdf.html" or path.parent.name == "emails":
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\sstyle\s*=|<style\b|<script>", line):
                offenders.append(f"{path.relative_to(BASE_DIR)}:{number}")
    assert offenders == []
