"""The weekly check-in in a real browser, on a phone and on a laptop: open it from the
room, mark a line at risk with a note, finish it, find it in the check-ins list; the
buyer's check-in through their link. axe-core finds nothing, every control is at least
24 × 24 px and nothing scrolls sideways."""

import os
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse
from playwright.sync_api import expect

from checkins.models import CheckIn
from plans.demo import DEMO_EMAIL, DEMO_PASSWORD
from plans.models import Task, TaskStatus
from rooms.actors import Actor
from rooms.models import Room
from stakeholders.links import link_issue
from stakeholders.models import Stakeholder

from .test_accessibility import SIDEWAYS, SMALL_TARGETS, violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Where to keep screenshots of the pages, when asked (MAPSITE_SCREENSHOTS=/some/dir).
SHOTS = os.environ.get("MAPSITE_SCREENSHOTS")


def shot(page, name):
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def clean(page, what):
    assert violations(page) == [], what
    assert page.evaluate(SMALL_TARGETS) == [], what
    assert page.evaluate(SIDEWAYS) == 0, what


@pytest.fixture
def demo(live_server):
    call_command("seed_demo")
    room = Room.objects.get(buyer_company="Acme Corp")
    maria = Stakeholder.objects.get(room=room, name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=room, stakeholder=maria)
    return room, f"{live_server.url}/b/{token}/"


@pytest.mark.parametrize("width", (390, 1366))
def test_a_seller_runs_a_check_in(browser, live_server, demo, width):
    room, link = demo
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{live_server.url}{reverse('accounts:login')}")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()
        page.goto(f"{live_server.url}{reverse('plans:room', args=[room.pk])}")
        page.get_by_role("link", name="Weekly check-in").click()
        expect(page.get_by_role("heading", name="Weekly check-in: Acme Corp")).to_be_visible()
        clean(page, "check-in")
        shot(page, f"check-in-{width}")

        # Mark the first line at risk, with a note said during the call.
        line = page.locator(".ci-line").first
        line_id = line.get_attribute("id").removeprefix("line-")
        title = line.locator("h4").inner_text()
        line.get_by_label("Mark").select_option("at_risk")
        line.get_by_label("Note (one line)").fill("Waiting on the CISO's answers")
        line.get_by_role("button", name="Save").click()
        expect(page.get_by_text(f"Saved “{title}”.")).to_be_visible()
        marked = page.locator(f"#line-{line_id}")
        expect(marked.locator(".chip")).to_have_text("At risk (blocked)")
        assert Task.objects.get(pk=line_id).status == TaskStatus.BLOCKED
        clean(page, "check-in after a mark")

        # Finish: who attended, a decision.
        page.get_by_label("Maria Lopez").check()
        page.get_by_label("Decisions").fill("Security review moves to Thursday.")
        page.get_by_role("button", name="Finish check-in").click()
        expect(page.get_by_text("Check-in recorded")).to_be_visible()
        history = page.locator("#history")
        expect(history.get_by_text("Security review moves to Thursday.")).to_be_visible()
        expect(history.get_by_text("Waiting on the CISO's answers")).to_be_visible()
        assert CheckIn.objects.filter(room=room).count() == 2  # the demo's own, last week
        clean(page, "check-in finished")
        shot(page, f"check-in-finished-{width}")

        # The buyer reads the same check-in through their link.
        buyer = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
        buyer_page = buyer.new_page()
        try:
            buyer_page.goto(link)
            buyer_page.get_by_role("link", name="Weekly check-in").click()
            expect(buyer_page.get_by_role("heading", name="Weekly check-in")).to_be_visible()
            expect(
                buyer_page.locator("#history").get_by_text("Security review moves to Thursday.")
            ).to_be_visible()
            clean(buyer_page, "buyer check-in")
            shot(buyer_page, f"buyer-check-in-{width}")
        finally:
            buyer.close()
    finally:
        context.close()


def test_the_buyers_check_in_follows_the_sellers_marks_live(browser, live_server, demo):
    """A mark made on the seller's screen during the call shows on the buyer's check-in
    page without a reload (the page follows the room's live poll)."""
    room, link = demo
    buyer = browser.new_context(viewport={"width": 390, "height": 900}, bypass_csp=True)
    seller = browser.new_context(viewport={"width": 1366, "height": 900}, bypass_csp=True)
    try:
        buyer_page = buyer.new_page()
        buyer_page.set_default_timeout(15_000)
        buyer_page.goto(link)
        buyer_page.get_by_role("link", name="Weekly check-in").click()
        expect(buyer_page.get_by_role("heading", name="Weekly check-in")).to_be_visible()

        page = seller.new_page()
        page.set_default_timeout(15_000)
        page.goto(f"{live_server.url}{reverse('accounts:login')}")
        page.get_by_label("Email").fill(DEMO_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()
        page.goto(f"{live_server.url}{reverse('checkins:page', args=[room.pk])}")
        line = page.locator(".ci-line").first
        line_id = line.get_attribute("id")
        line.get_by_label("Mark").select_option("at_risk")
        line.get_by_role("button", name="Save").click()
        expect(page.locator(f"#{line_id} .chip")).to_have_text("At risk (blocked)")

        expect(buyer_page.locator(f"#{line_id} .chip")).to_have_text("At risk (blocked)")
        expect(buyer_page.locator("#announce")).to_have_text("The check-in was updated.")
        clean(buyer_page, "buyer check-in after a live update")
    finally:
        buyer.close()
        seller.close()
