"""The plan's timeline in Chromium: drawn at desktop width with the critical path and both
close markers; on a phone the SVG gives way to the vertical list, with no sideways
scroll, for the seller and for the buyer."""

import datetime
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from plans.models import Milestone, Task
from plans.services import plan_changed, plan_start
from rooms.actors import Actor
from stakeholders.links import link_issue, link_url
from tests.factories import PASSWORD, MembershipFactory, RoomFactory, StakeholderFactory

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1366, "height": 900}
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def late_room():
    """A Standard plan closing in 45 days, with one open task 5 days overdue."""
    owner = MembershipFactory().user
    room = RoomFactory(
        org=owner.memberships.get().org,
        owner=owner,
        name="Acme rollout",
        target_close_date=timezone.now().date() + datetime.timedelta(days=45),
    )
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    today = room.today()
    first = Milestone.objects.for_room(room).order_by("order").first()
    task = Task.objects.for_room(room).filter(milestone=first).exclude(status="done").first()
    Task.objects.filter(pk=task.pk).update(
        due_date=today - datetime.timedelta(days=5),
        created_at=timezone.now() - datetime.timedelta(days=20),
    )
    plan_changed([room.pk])
    room.refresh_from_db()
    return room, owner


def sign_in(page, base, user):
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth")


def test_seller_timeline_at_desktop_and_phone_widths(browser, live_server, late_room):
    room, owner = late_room
    assert room.slip_days > 0  # the late task moves the close
    context = browser.new_context(viewport=DESKTOP)
    try:
        page = context.new_page()
        sign_in(page, live_server.url, owner)
        page.goto(f"{live_server.url}/rooms/{room.pk}/")
        section = page.locator("#timeline")
        svg = section.locator("svg.tl-svg")
        expect(svg).to_be_visible()
        label = svg.get_attribute("aria-label")
        assert label.startswith("Timeline: 5 milestones from ")
        assert "projected close" in label and "target close" in label
        assert svg.get_attribute("role") == "img"
        # The critical path is drawn (a heavy outline) and said in the list.
        critical_bars = svg.locator("g.crit rect")
        assert critical_bars.count() >= 2
        assert critical_bars.first.evaluate("e => getComputedStyle(e).strokeWidth") == "3px"
        expect(section.locator("ol.tl-list li.crit").first).to_contain_text("on the critical path")
        expect(section.locator("ol.tl-list")).to_contain_text("sets the close date")
        # The stretch past the planned date is hatched and labelled, not only coloured.
        expect(svg.locator("rect.tl-x").first).to_be_visible()
        expect(svg.locator("text.tl-d").first).to_have_text(re.compile(r"^\+\d+ days?$"))
        # Both close markers and today, each with its words.
        for kind in ("target", "projected", "today"):
            expect(svg.locator(f"path.tl-{kind}")).to_have_count(1)
        expect(svg.locator("text.tl-l-target")).to_contain_text("Target close:")
        expect(svg.locator("text.tl-l-projected")).to_contain_text("Projected close:")
        target_x = svg.locator("path.tl-target").bounding_box()["x"]
        projected_x = svg.locator("path.tl-projected").bounding_box()["x"]
        assert projected_x > target_x  # the close slipped
        page.screenshot(path="/tmp/timeline-1366.png", full_page=False)
        section.screenshot(path="/tmp/timeline-1366-section.png")
        # Collapsible: the summary folds it away.
        section.locator("summary").click()
        expect(svg).to_be_hidden()
        section.locator("summary").click()
        expect(svg).to_be_visible()

        page.set_viewport_size(PHONE)
        page.reload()
        section = page.locator("#timeline")
        expect(section.locator("svg.tl-svg")).to_be_hidden()
        expect(section.locator("ol.tl-list")).to_be_visible()
        expect(section.locator("ol.tl-list > li")).to_have_count(5)
        assert no_sideways_scroll(page) <= PHONE["width"]
        section.scroll_into_view_if_needed()
        page.screenshot(path="/tmp/timeline-390.png")

        page.set_viewport_size({"width": 320, "height": 700})
        assert section.evaluate("e => e.scrollWidth <= e.clientWidth")
        assert section.evaluate("e => e.getBoundingClientRect().right") <= 320
    finally:
        context.close()


def test_buyer_timeline_on_a_phone(browser, live_server, late_room, settings):
    settings.SITE_URL = live_server.url
    room, _ = late_room
    buyer = StakeholderFactory(room=room, name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=room, stakeholder=buyer)
    context = browser.new_context(viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(link_url(token))
        section = page.locator("#timeline")
        expect(section.get_by_role("heading", name="Timeline")).to_be_visible()
        expect(section.locator("svg.tl-svg")).to_be_hidden()
        items = section.locator("ol.tl-list > li")
        expect(items).to_have_count(5)
        expect(section.locator("ol.tl-list")).to_contain_text("where we're heading")
        expect(section.locator("ol.tl-list")).not_to_contain_text("projected")
        assert no_sideways_scroll(page) <= PHONE["width"]
        section.scroll_into_view_if_needed()
        page.screenshot(path="/tmp/timeline-buyer-390.png")

        page.set_viewport_size(DESKTOP)
        svg = section.locator("svg.tl-svg")
        expect(svg).to_be_visible()
        expect(svg.locator("text.tl-l-target")).to_contain_text("The date we agreed on:")
        expect(svg.locator("text.tl-l-projected")).to_contain_text("Where we're heading:")
        # Milestones only: one bar (and one date diamond) per milestone, no tasks.
        expect(svg.locator("path.tl-point")).to_have_count(5)
        section.screenshot(path="/tmp/timeline-buyer-1366-section.png")
    finally:
        context.close()
