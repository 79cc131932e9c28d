"""Every main page, on a phone and on a laptop, as axe-core (vendored beside this file,
never fetched by a page) checks it against WCAG 2.2 A/AA: no violations; every control
is at least 24 × 24 px; no page scrolls sideways on a phone (the buyer room not even at
320 px)."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from plans.demo import DEMO_EMAIL, DEMO_PASSWORD
from rooms.actors import Actor
from rooms.models import Room
from stakeholders.links import link_issue
from stakeholders.models import Stakeholder

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = (Path(__file__).parent / "vendor" / "axe-4.14.1.min.js").read_text()
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (390, 1366)

# Controls smaller than 24 px (links inside a sentence are exempt, WCAG 2.5.8).
SMALL_TARGETS = """() => [...document.querySelectorAll(
    'a, button, input:not([type=hidden]), select, textarea, summary')]
  .filter((e) => {
    const r = e.getBoundingClientRect();
    if (!r.width || !r.height || getComputedStyle(e).visibility === 'hidden') return false;
    if (e.matches('a') && getComputedStyle(e).display === 'inline'
        && e.closest('p, li, dd, td, .msg')) return false;
    if (e.matches('input[type=checkbox], input[type=radio]') && e.closest('label')) return false;
    return r.width < 24 || r.height < 24;
  })
  .map((e) => `${e.tagName} ${(e.textContent || e.name || '').trim().slice(0, 40)}`)"""
SIDEWAYS = "document.documentElement.scrollWidth - document.documentElement.clientWidth"


def violations(page):
    page.add_script_tag(content=AXE)
    found = page.evaluate(
        """async (tags) => (await axe.run(document, {runOnly: tags})).violations
            .map((v) => `${v.id}: ${v.nodes.slice(0, 3).map((n) => n.target.join(' '))}`)""",
        TAGS,
    )
    return found


@pytest.fixture
def demo(live_server):
    call_command("seed_demo")
    room = Room.objects.get(buyer_company="Acme Corp")
    maria = Stakeholder.objects.get(room=room, name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=room, stakeholder=maria)
    return room, f"{live_server.url}/b/{token}/"


def seller_pages(room):
    return [
        reverse("rooms:list"),
        reverse("plans:room", args=[room.pk]),
        reverse("rooms:activity", args=[room.pk]),
        reverse("rooms:activity", args=[room.pk]) + "?kind=task",  # filtered, by day
        reverse("rooms:new"),
        reverse("dashboard:index"),
        reverse("accounts:members"),
        reverse("accounts:api_tokens"),
        reverse("alerts:settings"),
        reverse("webhooks:settings"),
    ]


@pytest.mark.parametrize("width", WIDTHS)
def test_seller_pages_have_no_violations(browser, live_server, demo, width):
    room, _ = demo
    # The pages' own policy forbids injected scripts; axe is the test's, not the page's.
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}{reverse('accounts:login')}")
        assert violations(page) == [], "sign-in"
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()
        for path in seller_pages(room):
            page.goto(f"{live_server.url}{path}")
            assert violations(page) == [], path
            assert page.evaluate(SMALL_TARGETS) == [], path
            assert page.evaluate(SIDEWAYS) == 0, path  # wide tables scroll in their box
    finally:
        context.close()


@pytest.mark.parametrize("width", (320, *WIDTHS))
def test_buyer_room_has_no_violations_and_no_sideways_scroll(browser, demo, width):
    _, link = demo
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    try:
        page.goto(link)
        expect(page.get_by_role("heading", name="What you owe")).to_be_visible()
        assert violations(page) == []
        assert page.evaluate(SMALL_TARGETS) == []
        assert page.evaluate(SIDEWAYS) == 0
    finally:
        context.close()
