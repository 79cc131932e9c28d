"""Every page works under the Content-Security-Policy in Chromium: seller pages, the
admin (with its own inline scripts and styles, allowed by the nonce), the API reference
and error pages report no violation."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import User
from plans.demo import DEMO_EMAIL, DEMO_PASSWORD
from rooms.models import Room

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

LISTEN = """
window.__cspViolations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  window.__cspViolations.push(
    `${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`
  );
});
"""


def visit(page, url, problems):
    response = page.goto(url)
    assert "content-security-policy" in response.headers, url
    page.wait_for_load_state("networkidle")
    problems += [f"{url}: {v}" for v in page.evaluate("window.__cspViolations")]


def test_pages_report_no_csp_violation(page, live_server):
    call_command("seed_demo")
    User.objects.filter(email=DEMO_EMAIL).update(is_staff=True, is_superuser=True)
    user = User.objects.get(email=DEMO_EMAIL)
    room = Room.objects.filter(name__contains="Acme").first()
    empty = Room.objects.exclude(plan__isnull=False).first()

    problems = []
    page.add_init_script(LISTEN)
    page.on(
        "console",
        lambda msg: (
            problems.append(f"console: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    base = live_server.url
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(DEMO_EMAIL)
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()

    paths = [
        "/rooms/",
        "/rooms/new/",
        f"/rooms/{room.pk}/",
        "/dashboard/",
        "/accounts/members/",
        "/accounts/api-tokens/",
        "/accounts/password/",
        "/settings/alerts/",
        "/settings/webhooks/",
        "/api/v1/docs/",
        "/no-such-page/",
        "/admin/",
        "/admin/accounts/user/",
        f"/admin/accounts/user/{user.pk}/change/",
        f"/admin/accounts/user/{user.pk}/password/",
        "/admin/rooms/room/",
    ]
    if empty is not None:
        paths.append(f"/rooms/{empty.pk}/")
    for path in paths:
        visit(page, base + path, problems)

    # The admin's own scripts ran: its collapsible filter and the user form's
    # two-list permission chooser exist only when admin JavaScript works.
    page.goto(f"{base}/admin/accounts/user/{user.pk}/change/")
    expect(page.locator("#id_user_permissions_from")).to_be_visible()
    assert not problems, "\n".join(problems)
