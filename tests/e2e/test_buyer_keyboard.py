"""A buyer who uses only the keyboard: sets a task's status (one save, on Enter), marks
it done, comments, adds a task and agrees to the plan, and the page says so at each step."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.models import Comment, Task
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.links import link_issue
from stakeholders.models import Stakeholder

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_a_keyboard_only_buyer_does_everything(browser, live_server):
    call_command("seed_demo")
    room = Room.objects.get(buyer_company="Acme Corp")
    maria = Stakeholder.objects.get(room=room, name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=room, stakeholder=maria)
    task = Task.objects.get(title="Present business case to the CFO")
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        page.goto(f"{live_server.url}/b/{token}/")
        card = page.locator(f"#task-{task.pk}")

        # Status: "Add a note" opens the fields; arrowing through the options saves
        # nothing until Enter.
        card.locator(".b-edit > summary").focus()
        page.keyboard.press("Enter")
        status = card.get_by_label("Status")
        expect(status).to_be_visible()
        status.focus()
        saves = ActivityEvent.objects.filter(room=room).count()
        for _ in range(2):  # Not started → In progress → Blocked
            page.keyboard.press("ArrowDown")
        expect(card).to_contain_text("Press Enter to save")
        assert ActivityEvent.objects.filter(room=room).count() == saves
        page.keyboard.press("Enter")
        expect(page.locator("#announce")).to_have_text("Saved")
        assert Task.objects.get(pk=task.pk).status == "blocked"
        assert ActivityEvent.objects.filter(room=room).count() == saves + 1

        # "Mark done": one key press; focus lands on the task, and the page says so.
        page.evaluate("document.getElementById('announce').textContent = ''")
        card.get_by_role("button", name="Mark done").focus()
        page.keyboard.press("Enter")
        expect(card.locator(".chip")).to_have_text("Done")
        expect(card.get_by_role("heading", name=task.title)).to_be_focused()
        expect(page.locator("#announce")).to_have_text("Saved")
        assert Task.objects.get(pk=task.pk).status == "done"

        # Comment: open the thread, write, send; focus comes back to the box.
        card.locator(".b-thread > summary").focus()
        page.keyboard.press("Enter")
        box = card.get_by_label(f"Comment on {task.title}")
        box.focus()
        page.keyboard.type("Presented on Tuesday; David approved.")
        page.keyboard.press("Tab")  # to the Comment button
        page.keyboard.press("Enter")
        expect(card.locator(".thread")).to_contain_text("David approved.")
        expect(box).to_be_focused()
        expect(card.locator(".b-thread > summary")).to_have_text("Comments (1)")
        assert Comment.objects.filter(task=task).count() == 1

        # Add a task under the same milestone: open "+ Add a task", type, press Enter.
        section = card.locator("xpath=ancestor::section[1]")
        section.get_by_text("+ Add a task").focus()
        page.keyboard.press("Enter")
        add = page.get_by_label(f"New task for your side under {task.milestone.title}")
        add.focus()
        page.keyboard.type("Book the CFO review slot")
        page.keyboard.press("Enter")
        expect(page.get_by_role("heading", name="Book the CFO review slot")).to_be_visible()
        # Focus stays in the box for the next one, and the page says what was added.
        expect(add).to_be_focused()
        expect(add).to_have_value("")
        expect(page.locator("#announce")).to_have_text("Added “Book the CFO review slot”.")

        # Agree: the button is reached and pressed from the keyboard.
        agree = page.get_by_role("button", name="We agree to this plan")
        agree.focus()
        page.keyboard.press("Enter")
        expect(page.get_by_text("your agreement is recorded")).to_be_visible()
    finally:
        context.close()
