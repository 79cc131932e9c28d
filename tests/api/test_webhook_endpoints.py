"""Webhook endpoints through the API: admins only; the secret is shown once."""

import pytest

from tests.conftest import INTERNAL_URLS
from webhooks.models import Endpoint

pytestmark = pytest.mark.django_db


def test_admin_creates_lists_and_deletes_an_endpoint(admin_api, org):
    created = admin_api.post(
        "/api/v1/webhooks/",
        {"url": "https://crm.example.com/hooks", "events": ["task.completed", "room.won"]},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    endpoint = Endpoint.objects.get(pk=body["id"], org=org)
    assert body["secret"] == endpoint.secret and body["secret"].startswith("whsec_")
    assert created["Cache-Control"] == "no-store"
    listed = admin_api.get("/api/v1/webhooks/").json()
    assert listed["count"] == 1 and listed["results"][0]["secret"] is None
    assert admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/").json()["secret"] is None
    deliveries = admin_api.get(f"/api/v1/webhooks/{endpoint.pk}/deliveries/")
    assert deliveries.status_code == 200 and deliveries.json()["count"] == 0
    assert admin_api.delete(f"/api/v1/webhooks/{endpoint.pk}/").status_code == 204
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize(
    "body",
    [
        {"url": "http://crm.example.com/hooks", "events": ["room.won"]},
        {"url": "https://crm.example.com/hooks", "events": []},
        {"url": "https://crm.example.com/hooks", "events": ["room.maybe"]},
        {"url": "https://crm.example.com/hooks", "events": ["room.won"], "secret": "mine"},
    ],
)
def test_bad_endpoints_are_refused(admin_api, body):
    assert admin_api.post("/api/v1/webhooks/", body).status_code == 400
    assert not Endpoint.objects.exists()


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused(admin_api, url):
    response = admin_api.post("/api/v1/webhooks/", {"url": url, "events": ["room.won"]})

    assert response.status_code == 400
    (message,) = response.json()["url"]
    assert message.startswith("This URL is not allowed")
    assert not Endpoint.objects.exists()


def test_members_who_are_not_admins_cannot_manage_webhooks(api):
    response = api.post(
        "/api/v1/webhooks/", {"url": "https://crm.example.com/hooks", "events": ["room.won"]}
    )
    assert response.status_code == 403
    assert api.get("/api/v1/webhooks/").status_code == 403
