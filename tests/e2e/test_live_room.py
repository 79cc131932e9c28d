"""A seller and a buyer on the same room, live: each sees the other's edits within two
seconds without reloading, sees who is here, and nobody's typing is overwritten."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.models import Task
from rooms.actors import Actor
from stakeholders.links import link_issue, link_url
from stakeholders.models import Stakeholder

from .test_plan_editor import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]
WITHIN = 3_000  # ms: as in test_live_windows.py (a loaded CI machine redraws a plan slower)


@pytest.fixture
def both(browser, live_server, settings):
    """The demo room open twice: the seller signed in, Maria (the buyer's champion)
    through her personal link."""
    settings.SITE_URL = live_server.url
    call_command("seed_demo")
    maria = Stakeholder.objects.get(name="Maria Lopez")
    _, token = link_issue(actor=Actor.system(), room=maria.room, stakeholder=maria)
    seller_ctx, buyer_ctx = browser.new_context(), browser.new_context()
    seller = seller_ctx.new_page()
    sign_in(seller, live_server.url)
    seller.get_by_role("link", name="Acme Corp — Finance automation").click()
    buyer = buyer_ctx.new_page()
    buyer.goto(link_url(token))
    yield seller, buyer
    seller_ctx.close()
    buyer_ctx.close()


def test_seller_and_buyer_see_each_others_edits_live(both):
    seller, buyer = both

    expect(seller.locator("#presence")).to_contain_text("Maria Lopez", timeout=8_000)
    expect(buyer.locator("#presence")).to_contain_text("Sarah Kim", timeout=8_000)

    task = Task.objects.get(title="Return redlines")  # Maria's, buyer side
    # Seller → buyer: the chip changes, and the fields the buyer has open come back
    # open with the new value.
    open_fields(buyer, task)
    seller.locator(f"#task-{task.pk}").get_by_label("Status of 4.2").select_option("blocked")
    expect(seller.locator(f"#task-{task.pk} .saved")).to_be_visible()
    seller.locator("h1").click()  # leave the row
    expect(buyer.locator(f"#task-{task.pk} .chip")).to_have_text("Blocked", timeout=WITHIN)
    expect(buyer.locator(f"#task-{task.pk}").get_by_label("Status")).to_have_value("blocked")
    # Buyer → seller.
    notes = buyer.locator(f"#task-{task.pk}").get_by_label("Notes")
    notes.fill("Waiting for our counsel")
    notes.press("Tab")
    buyer.locator("h1").click()
    expect(seller.locator(f"#task-{task.pk}").get_by_label("Notes on 4.2")).to_have_value(
        "Waiting for our counsel", timeout=WITHIN
    )
    # A new task from the buyer shows up in the seller's plan.
    section = buyer.locator(f"#task-{task.pk}").locator("xpath=ancestor::section[1]")
    section.get_by_text("+ Add a task").click()
    section.get_by_label("New task for your side under Legal review complete").fill("Check the DPA")
    buyer.get_by_label("New task for your side under Legal review complete").press("Enter")
    expect(seller.locator("#plan")).to_contain_text("Check the DPA", timeout=WITHIN)


def open_fields(buyer, task):
    """The buyer opens a task's "Add a note": its status and note fields load."""
    buyer.locator(f"#task-{task.pk} .b-edit > summary").click()
    expect(buyer.locator(f"#task-{task.pk}").get_by_label("Status")).to_be_visible()


def test_a_row_being_typed_in_is_not_overwritten(both):
    seller, buyer = both
    task = Task.objects.get(title="Return redlines")

    row = seller.locator(f"#task-{task.pk}")
    row.get_by_label("Notes on 4.2").click()
    row.get_by_label("Notes on 4.2").type("Half-written thought")  # not saved yet

    open_fields(buyer, task)
    buyer.locator(f"#task-{task.pk}").get_by_label("Status").select_option("in_progress")
    expect(buyer.locator(f"#task-{task.pk} .saved")).to_be_visible()

    expect(row.locator(".live-marker")).to_contain_text(
        "Changed by Maria Lopez (Buyer) just now", timeout=WITHIN + 1_000
    )
    expect(row.get_by_label("Notes on 4.2")).to_have_value("Half-written thought")
    expect(row.get_by_label("Status of 4.2")).to_have_value("not_started")
    row.get_by_role("button", name="Show their change").click()
    expect(seller.locator(f"#task-{task.pk}").get_by_label("Status of 4.2")).to_have_value(
        "in_progress"
    )


def test_seller_and_buyer_conflict_on_the_same_field_and_use_theirs(both):
    seller, buyer = both
    task = Task.objects.get(title="Return redlines")
    row = seller.locator(f"#task-{task.pk}")

    # The seller starts typing a note; meanwhile the buyer saves a different one.
    row.get_by_label("Notes on 4.2").click()
    row.get_by_label("Notes on 4.2").type("Seller's note")
    open_fields(buyer, task)
    buyer_notes = buyer.locator(f"#task-{task.pk}").get_by_label("Notes")
    buyer_notes.fill("Buyer's note")
    buyer_notes.press("Tab")
    expect(buyer.locator(f"#task-{task.pk} .saved")).to_be_visible()
    expect(row.locator(".live-marker")).to_be_visible(timeout=WITHIN + 1_000)

    row.get_by_label("Notes on 4.2").press("Tab")  # the seller's save meets theirs
    card = seller.locator(f"#task-{task.pk} .conflict")
    expect(card).to_contain_text("Buyer's note")
    expect(card).to_contain_text("Seller's note")
    card.get_by_role("button", name="Use theirs").click()
    expect(seller.locator(f"#task-{task.pk} .conflict")).to_have_count(0)
    expect(seller.locator(f"#task-{task.pk}").get_by_label("Notes on 4.2")).to_have_value(
        "Buyer's note"
    )
    task.refresh_from_db()
    assert task.notes == "Buyer's note"
