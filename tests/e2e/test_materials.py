"""In Chromium: the buyer downloads the PDF and the weekly review from their page,
uploads a document and opens one; the seller downloads the PDF, sees who opened what and
the contradiction signal go away; then closes the deal lost (read-only), reopens it,
marks it won and hands it over to Customer Success."""

import io

import icalendar
import pypdf
import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from documents.models import Document, DocumentView
from rooms.models import Outcome, Room

from .test_plan_editor import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def download(page, locator):
    with page.expect_download() as info:
        locator.click()
    d = info.value
    return d.suggested_filename, open(d.path(), "rb").read()


DEMO_ROOM = "Acme Corp — Finance automation"


def test_buyer_downloads_pdf_and_ics_and_shares_documents(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("seed_demo")
    seller_ctx = browser.new_context(
        viewport={"width": 1400, "height": 1000}, accept_downloads=True
    )
    buyer_ctx = browser.new_context(viewport={"width": 1100, "height": 1000}, accept_downloads=True)
    try:
        seller = seller_ctx.new_page()
        sign_in(seller, live_server.url)
        seller.get_by_role("link", name="Acme Corp — Finance automation").click()
        room_url = seller.url
        documents = seller.locator("#documents")
        expect(documents.locator("table.documents")).to_be_visible()
        expect(documents).to_contain_text("is marked done, but nobody at Acme Corp has opened")
        # The same signal near the top of the room page, where nobody can miss it.
        expect(seller.locator("#doc-signals")).to_contain_text("Technical validation complete")
        name, pdf = download(seller, seller.get_by_role("link", name="Download PDF"))
        assert name.endswith(".pdf") and pdf.startswith(b"%PDF-")

        maria_row = seller.locator(
            "#stakeholders form", has=seller.locator("input[value='Maria Lopez']")
        )
        maria_row.get_by_role("link", name="issue link").click()
        seller.get_by_label("Email it to them").uncheck()
        seller.get_by_role("button", name="Issue link").click()
        link = seller.locator("#new-link").input_value()
        seller.get_by_role("button", name="Issue a feed address").click()
        expect(seller.locator("#new-feed")).to_have_value(
            __import__("re").compile(r"/cal/[A-Za-z0-9_-]{43}\.ics$")
        )

        buyer = buyer_ctx.new_page()
        buyer.goto(link)
        expect(buyer.get_by_role("heading", name="What you owe")).to_be_visible()
        expect(buyer.locator("#documents")).to_contain_text("Evaluation summary.pdf")

        name, pdf = download(buyer, buyer.get_by_role("link", name="Download PDF"))
        assert name == "mutual-action-plan-acme-corp.pdf"
        text = " ".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages)
        assert "prepared for Maria Lopez" in " ".join(text.split())
        assert "Present business case to the CFO" in text

        name, ics = download(buyer, buyer.get_by_role("link", name="Weekly review (.ics)"))
        assert name == "weekly-review.ics"
        (event,) = icalendar.Calendar.from_ical(ics).walk("VEVENT")
        assert event["RRULE"]["FREQ"] == ["WEEKLY"] and event["RRULE"]["BYDAY"] == ["MO"]
        assert event["DTSTART"].params["TZID"] == "America/New_York"

        # The buyer shares a file and opens the evaluation summary.
        upload = buyer.locator("#documents form")
        upload.get_by_label("Share a file with Northwind Software").set_input_files(
            files=[{"name": "answers.csv", "mimeType": "text/csv", "buffer": b"q,a\nSSO,yes\n"}]
        )
        upload.get_by_role("button", name="Upload").click()
        expect(buyer.locator("#documents")).to_contain_text("answers.csv")
        upload = buyer.locator("#documents form")
        upload.get_by_label("Share a file with Northwind Software").set_input_files(
            files=[
                {
                    "name": "evil.pdf",
                    "mimeType": "application/pdf",
                    "buffer": b"<html><script>x</script>",
                }
            ]
        )
        upload.get_by_role("button", name="Upload").click()
        expect(buyer.locator("#documents")).to_contain_text("markup")
        name, body = download(
            buyer, buyer.locator("#documents").get_by_role("link", name="Evaluation summary.pdf")
        )
        assert body.startswith(b"%PDF-")
        assert DocumentView.objects.filter(stakeholder__name="Maria Lopez").count() == 1

        # Their own calendar feed, from the buyer page.
        buyer.goto(f"{live_server.url}/b/room/")
        buyer.get_by_role("button", name="Subscribe to your dates in your calendar").click()
        feed = buyer.get_by_label("Your calendar feed address").input_value()
        assert "/cal/" in feed and feed.endswith(".ics")
        feed_response = buyer.request.get(feed)
        assert feed_response.status == 200
        uids = [
            str(e["UID"]) for e in icalendar.Calendar.from_ical(feed_response.body()).walk("VEVENT")
        ]
        assert any(uid.startswith("task-") for uid in uids)

        seller.goto(room_url + "documents/")
        expect(seller.get_by_role("heading", name="Documents")).to_be_visible()
        seller.goto(room_url)
        documents = seller.locator("#documents")
        expect(documents).to_contain_text("answers.csv")
        expect(documents).to_contain_text("Maria Lopez · 1×")
        expect(documents).not_to_contain_text("is marked done, but nobody")
        expect(seller.locator("#doc-signals")).to_be_empty()
        assert Document.objects.count() == 3
    finally:
        seller_ctx.close()
        buyer_ctx.close()


def test_lost_is_read_only_until_reopened_then_won_and_handed_over(page, live_server):
    call_command("seed_demo")
    sign_in(page, live_server.url)
    page.get_by_role("link", name="Acme Corp — Finance automation").click()
    page.get_by_text("Close the deal").click()
    page.get_by_label("Lost — reason (required)").fill("Budget moved to next year")
    page.get_by_role("button", name="Mark lost").click()
    expect(page.get_by_text("This room is read-only")).to_be_visible()
    expect(page.locator("#plan textarea[name=title]").first).to_be_disabled()
    assert Room.objects.get(name=DEMO_ROOM).outcome == Outcome.LOST

    page.get_by_role("button", name="Reopen the deal").click()
    expect(page.get_by_text("The deal is open again")).to_be_visible()
    page.get_by_text("Close the deal").click()
    page.get_by_role("button", name="Mark won").click()
    expect(page.get_by_label("Hand over to Customer Success")).to_be_visible()
    page.get_by_label("Hand over to Customer Success").select_option(label="Morgan Lee · Manager")
    page.get_by_role("button", name="Hand over").click()
    expect(page.get_by_text("Handed over to Morgan Lee")).to_be_visible()
    onboarding = page.locator("#plan textarea[name=title]", has_text="Onboarding kick-off")
    expect(onboarding).to_be_visible()
    assert Room.objects.get(name=DEMO_ROOM).outcome == Outcome.HANDED_OVER


def test_a_page_opened_before_the_deal_was_lost_gets_a_clear_refusal(browser, live_server):
    """Without JavaScript: the seller's and the buyer's stale forms post after the deal
    was marked lost; both get the 409 page with the reason and a way back."""
    from accounts.models import Membership
    from plans.models import Task
    from rooms.actors import Actor
    from rooms.services import room_close
    from stakeholders import links
    from stakeholders.models import Stakeholder

    call_command("seed_demo")
    room = Room.objects.get(name=DEMO_ROOM)
    maria = Stakeholder.objects.get(name="Maria Lopez")
    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=maria)
    seller_ctx = browser.new_context(
        java_script_enabled=False, viewport={"width": 1200, "height": 700}
    )
    buyer_ctx = browser.new_context(
        java_script_enabled=False, viewport={"width": 900, "height": 700}
    )
    try:
        seller = seller_ctx.new_page()
        sign_in(seller, live_server.url)
        seller.goto(f"{live_server.url}/rooms/{room.pk}/")
        buyer = buyer_ctx.new_page()
        buyer.goto(f"{live_server.url}/b/{token}/")
        task = Task.objects.get(title="Present business case to the CFO")
        # Without JavaScript "Add a note" is a link to the room with the task's fields open.
        card = buyer.locator(f"#task-{task.pk}")
        card.locator(".b-edit > summary").click()
        card.get_by_role("link", name="Open the note and status").click()
        expect(card.get_by_label("Notes")).to_be_visible()

        owner = Membership.objects.get(user=room.owner)
        room_close(
            actor=Actor(user=room.owner),
            membership=owner,
            room_id=room.pk,
            outcome="lost",
            reason="Budget moved to next year",
        )

        seller.get_by_label("New milestone").fill("Too late")
        seller.get_by_role("button", name="Add milestone").click()
        expect(seller.get_by_role("heading", name="Not saved")).to_be_visible()
        expect(seller.get_by_text("This deal was marked lost")).to_be_visible()
        seller.get_by_role("link", name="Back to the room").click()
        expect(seller.get_by_text("This room is read-only")).to_be_visible()

        card.get_by_label("Notes").fill("Too late")
        card.get_by_role("button", name="Save").click()
        expect(buyer.get_by_role("heading", name="Not saved")).to_be_visible()
        expect(buyer.get_by_text("Ask Sarah Kim if you think that is a mistake")).to_be_visible()
        assert not Task.objects.filter(notes="Too late").exists()
    finally:
        seller_ctx.close()
        buyer_ctx.close()
