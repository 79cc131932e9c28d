"""An admin sets up an integration in Chromium: an API token (shown once), used from a
script against the live server, and a webhook endpoint whose deliveries the page shows."""

import pytest
import requests
from playwright.sync_api import expect

from accounts.models import Role
from tests.factories import PASSWORD, MembershipFactory
from tests.webhooks.receiver import Receiver
from webhooks import delivery
from webhooks.services import dispatch

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_token_then_webhook_then_a_delivery_on_the_page(
    page, live_server, org, allow_local_receivers
):
    admin = MembershipFactory(org=org, role=Role.ADMIN).user
    receiver = Receiver().start()
    try:
        page.goto(f"{live_server.url}/accounts/login/")
        page.get_by_label("Email").fill(admin.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()

        page.get_by_role("link", name="API", exact=True).click()
        page.get_by_label("Name").fill("CRM sync")
        page.get_by_role("button", name="Create token").click()
        token = page.locator("#new-token").input_value()
        assert token.startswith("msk_")
        page.reload()
        expect(page.locator("#new-token")).to_have_count(0)  # shown once
        expect(page.get_by_role("cell", name="CRM sync", exact=True)).to_be_visible()

        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("URL").fill(receiver.url)
        page.get_by_role("button", name="Add endpoint").click()
        receiver.secret = page.locator("#new-secret").input_value()
        assert receiver.secret.startswith("whsec_")

        api = requests.Session()
        api.headers["Authorization"] = f"Token {token}"
        room = api.post(
            f"{live_server.url}/api/v1/rooms/",
            json={
                "name": "Initech rollout",
                "buyer_company": "Initech",
                "target_close_date": "2030-03-01",
                "template": "light",
            },
            timeout=10,
        ).json()
        won = api.patch(
            f"{live_server.url}/api/v1/rooms/{room['id']}/",
            json={"outcome": "won", "outcome_reason": "Signed"},
            headers={"If-Match": '"1"'},
            timeout=10,
        )
        assert won.status_code == 200

        dispatch()
        delivery.deliver_due()
        assert [r.json["type"] for r in receiver.accepted] == ["room.won"]

        page.reload()
        row = page.locator("section[aria-labelledby=deliveries-h] tbody tr", has_text="room.won")
        expect(row).to_contain_text("Delivered")
        expect(row).to_contain_text("200")
    finally:
        receiver.stop()
