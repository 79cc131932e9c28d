"""Seller and buyer in two browsers: the seller issues a personal link; the buyer opens
it, completes a task with evidence, comments and agrees; the seller sees all of it with
the buyer named; the seller revokes the link and the buyer's next click gets the 410."""

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from plans.models import Task

from .test_plan_editor import sign_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_buyer_link_round_trip(browser, live_server, settings):
    settings.SITE_URL = live_server.url
    call_command("seed_demo")
    seller_ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    buyer_ctx = browser.new_context(viewport={"width": 390, "height": 844})  # a phone
    try:
        seller = seller_ctx.new_page()
        sign_in(seller, live_server.url)
        seller.get_by_role("link", name="Acme Corp — Finance automation").click()
        room_url = seller.url
        maria_row = seller.locator(
            "#stakeholders form", has=seller.locator("input[value='Maria Lopez']")
        )
        expect(maria_row).to_contain_text("never opened")
        maria_row.get_by_role("link", name="issue link").click()
        seller.get_by_label("Email it to them").uncheck()
        seller.get_by_role("button", name="Issue link").click()
        link = seller.locator("#new-link").input_value()
        assert link.startswith(f"{live_server.url}/b/")

        buyer = buyer_ctx.new_page()
        buyer.goto(link)
        assert buyer.url == f"{live_server.url}/b/room/"  # the token is gone from the URL
        expect(buyer.get_by_role("heading", name="What you owe")).to_be_visible()
        task = Task.objects.get(title="Present business case to the CFO")
        card = buyer.locator(f"#task-{task.pk}")
        expect(card.locator(".chip")).to_have_text("Not started")
        card.get_by_role("button", name="Mark done").click()
        expect(card.locator(".chip")).to_have_text("Done")
        expect(card.get_by_role("button", name="Mark done")).to_have_count(0)
        expect(card.get_by_role("heading", name=task.title)).to_be_focused()
        expect(buyer.locator("#announce")).to_have_text("Saved")  # the page's one live region
        card.locator(".b-edit > summary").click()  # the fields come when asked for
        card.get_by_label("Completion evidence").fill("Approval email from David, 14:02")
        card.get_by_label("Completion evidence").press("Tab")
        expect(card.locator(".saved")).to_be_visible()
        card.get_by_text("Comments (0)").click()
        card.get_by_label(f"Comment on {task.title}").fill("Presented; David approved it.")
        card.get_by_role("button", name="Comment").click()
        expect(card.locator(".thread")).to_contain_text("Presented; David approved it.")
        # Focus is back in the box for the next comment, and the count says 1.
        expect(card.get_by_label(f"Comment on {task.title}")).to_be_focused()
        expect(card.locator(".b-thread > summary")).to_have_text("Comments (1)")
        buyer.get_by_role("button", name="We agree to this plan").click()
        expect(buyer.get_by_text("your agreement is recorded")).to_be_visible()

        seller.goto(room_url)
        row = seller.locator(f"#task-{task.pk}")
        expect(row.get_by_label("Status of 3.2")).to_have_value("done")
        expect(row.locator("textarea[name=evidence]")).to_have_value(
            "Approval email from David, 14:02"
        )
        expect(row.locator(".thread")).to_contain_text("Maria Lopez")
        expect(row.locator(".thread")).to_contain_text("Presented; David approved it.")
        expect(seller.get_by_text("agreed by Maria Lopez (Buyer)")).to_be_visible()
        activity = seller.locator("section[aria-labelledby=activity-h]")
        expect(activity).to_contain_text("Maria Lopez (buyer) agreed to the plan")
        expect(
            seller.locator("#stakeholders form", has=seller.locator("input[value='Maria Lopez']"))
        ).to_contain_text("seen")

        buyer.route("**/b/room/live/**", lambda route: route.abort())
        buyer.locator(f"#task-{task.pk} .b-edit > summary").click()
        expect(buyer.locator(f"#task-{task.pk}").get_by_label("Notes")).to_be_visible()
        seller.locator(
            "#stakeholders form", has=seller.locator("input[value='Maria Lopez']")
        ).get_by_role("link", name="link · access").click()
        seller.get_by_role("button", name="Revoke").click()
        expect(seller.get_by_text("Link revoked")).to_be_visible()

        # The buyer's next click inside the already-open page gets the 410 page. (Live
        # polling would notice on its own within a second; it is held off here so the
        # click is what meets the revocation.)
        notes = buyer.locator(f"#task-{task.pk}").get_by_label("Notes")
        notes.fill("one more thing")
        notes.press("Tab")
        expect(buyer.get_by_role("heading", name="This link no longer works")).to_be_visible()
        response = buyer.reload()
        assert response.status == 410
        task.refresh_from_db()
        assert task.notes != "one more thing"
    finally:
        seller_ctx.close()
        buyer_ctx.close()
