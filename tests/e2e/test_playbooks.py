"""A manager saves a room's plan as the team's template, edits an offset, previews the
dates it gives another room and starts that room's plan from it, in Chromium; every
page on the way is axe-core clean with targets of at least 24 px, on a phone and on a
laptop."""

import datetime

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from accounts.models import Membership
from plans.demo import DEMO_PASSWORD, MANAGER_EMAIL
from plans.models import Milestone, Playbook
from rooms.actors import Actor
from rooms.models import Room
from rooms.services import room_create
from tests.e2e.test_accessibility import SIDEWAYS, SMALL_TARGETS, violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def clean(page, what):
    assert violations(page) == [], what
    assert page.evaluate(SMALL_TARGETS) == [], what
    assert page.evaluate(SIDEWAYS) == 0, what


@pytest.mark.parametrize("width", (390, 1366))
def test_save_a_plan_as_a_template_edit_it_and_start_another_room_from_it(
    browser, live_server, width
):
    call_command("seed_demo")
    source = Room.objects.get(buyer_company="Acme Corp")
    manager = Membership.objects.get(user__email=MANAGER_EMAIL)
    target = room_create(
        membership=manager,
        actor=Actor(user=manager.user),
        name="Globex — Payables",
        buyer_company="Globex",
        value=30000,
        currency="USD",
        target_close_date=datetime.date.today() + datetime.timedelta(days=90),
    )
    base = live_server.url
    context = browser.new_context(viewport={"width": width, "height": 900}, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(f"{base}/accounts/login/")
        page.get_by_label("Email").fill(MANAGER_EMAIL)
        page.get_by_label("Password").fill(DEMO_PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()

        # Save the Acme plan as a template.
        page.goto(f"{base}/rooms/{source.pk}/")
        page.get_by_role("link", name="Save this plan as a template").click()
        clean(page, "save as template")
        page.get_by_label("Name").fill("Finance playbook")
        page.get_by_label("Motion or deal size").fill("Mid-market")
        page.get_by_role("button", name="Save as a template").click()

        # The editor: move the first milestone 3 days earlier.
        expect(page.get_by_role("heading", name="Edit “Finance playbook”")).to_be_visible()
        clean(page, "editor")
        offset = page.get_by_label("Days, milestone 1", exact=True)
        first_offset = int(offset.input_value()) + 3
        offset.fill(str(first_offset))
        page.get_by_role("button", name="Save template").click()
        expect(page.get_by_role("heading", name="Plan templates")).to_be_visible()
        expect(page.get_by_text("Template “Finance playbook” saved.")).to_be_visible()
        clean(page, "template list")
        playbook = Playbook.objects.get(name="Finance playbook")
        assert playbook.body["milestones"][0]["offset_days"] == first_offset

        # Another room: preview the dates, then start its plan from the template.
        page.goto(f"{base}/rooms/{target.pk}/")
        choice = page.locator("#org-templates")
        expect(choice.get_by_role("button", name="Finance playbook")).to_be_visible()
        choice.get_by_role("link", name="Preview the dates of Finance playbook").click()
        preview = page.locator("#plan-preview")
        expect(preview.get_by_role("heading", name="Finance playbook: the dates")).to_be_visible()
        first = playbook.spec.milestones[0]
        expected = target.target_close_date - datetime.timedelta(days=first_offset)
        while expected.weekday() >= 5:
            expected -= datetime.timedelta(days=1)
        expect(preview.locator(f'time[datetime="{expected:%Y-%m-%d}"]').first).to_be_visible()
        clean(page, "room with preview")
        page.screenshot(path=f"/tmp/h5-data/playbook-preview-{width}.png", full_page=True)
        preview.get_by_role("button", name="Start the plan from Finance playbook").click()
        expect(page.get_by_role("heading", name="Mutual action plan")).to_be_visible()
        expect(page.get_by_text("started from the Finance playbook template")).to_be_visible()
        started = Milestone.objects.for_room(target).order_by("order").first()
        assert (started.title, started.target_date) == (first.title, expected)
    finally:
        context.close()
