"""A new organisation signs up, creates a room, starts its plan from a template and adds
a person who can then own a task — all in Chromium."""

import pytest
from playwright.sync_api import expect

from plans.models import Task
from rooms.models import Room

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sign_up_create_a_room_and_start_the_plan(page, live_server):
    page.goto(f"{live_server.url}/accounts/signup/")
    page.get_by_label("Email").fill("hank@globex.example")
    page.get_by_label("Your name").fill("Hank Scorpio")
    page.get_by_label("Organisation name").fill("Globex")
    passwords = page.locator("input[type=password]")
    for i in range(passwords.count()):
        passwords.nth(i).fill("Volcano-Lair-2026")
    page.get_by_role("button", name="Create").first.click()
    expect(page.get_by_role("heading", name="Deal rooms")).to_be_visible()

    page.get_by_role("link", name="New room").first.click()
    page.get_by_label("Deal name").fill("Initech rollout")
    page.get_by_label("Buyer company").fill("Initech")
    page.get_by_label("Target close date").fill("2027-03-01")
    page.get_by_label("Go-live date").fill("2027-02-01")  # before close: refused
    page.get_by_role("button", name="Create room").click()
    expect(page.get_by_text("Go-live comes after the target close date")).to_be_visible()
    page.get_by_label("Go-live date").fill("2027-04-01")
    page.get_by_role("button", name="Create room").click()

    page.get_by_role("button", name="Light").click()
    expect(page.locator(".task-row")).to_have_count(6)
    room = Room.objects.get(name="Initech rollout")
    assert Task.objects.for_room(room).count() == 6

    page.locator("#add-sh-name").fill("Bill Lumbergh")
    page.locator("#add-sh-email").fill("bill@initech.example")
    page.get_by_role("button", name="Add person").click()
    expect(page.locator("#stakeholders input[name=name]").first).to_have_value("Bill Lumbergh")
    owner = page.locator(".task-row").first.locator("select[name=owner]")
    expect(owner.locator("option", has_text="Bill Lumbergh")).to_have_count(1)
    owner.select_option(label="Bill Lumbergh")
    expect(page.locator(".task-row").first.locator(".saved")).to_be_visible()
    first = Task.objects.for_room(room).order_by("order").first()
    assert first.owner.name == "Bill Lumbergh"
