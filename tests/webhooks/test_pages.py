"""The organisation's webhooks page (admins) and a member's API tokens page."""

import pytest
from django.urls import reverse

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.conftest import INTERNAL_URLS, login
from webhooks.models import Delivery, DeliveryStatus, Endpoint

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user):
    return login(admin_user)


def test_admin_adds_an_endpoint_and_sees_its_secret_once(admin_client, org, receiver):
    page = reverse("webhooks:settings")
    assert admin_client.get(page).status_code == 200
    response = admin_client.post(
        page,
        {"url": receiver.url, "events": ["task.completed", "room.won"], "description": "CRM"},
        follow=True,
    )
    assert response.status_code == 200
    assert response.redirect_chain == [(page, 302)]
    endpoint = Endpoint.objects.get(org=org)
    assert endpoint.events == ["task.completed", "room.won"]
    html = response.content.decode()
    assert endpoint.secret in html and "shown this once" in html
    assert response["Cache-Control"].startswith("max-age=0")
    assert endpoint.secret not in admin_client.get(page).content.decode()


@pytest.mark.parametrize(
    ("url", "events", "message"),
    [
        ("http://crm.example.com/hook", ["room.won"], "https://"),
        ("https://crm.example.com/hook", [], "Pick at least one event"),
        ("https://crm.example.com/hook", ["room.nope"], "Pick at least one event"),
        ("not a url", ["room.won"], "valid URL"),
        *((url, ["room.won"], "This URL is not allowed") for url in INTERNAL_URLS),
    ],
)
def test_bad_endpoints_are_refused(admin_client, url, events, message):
    response = admin_client.post(reverse("webhooks:settings"), {"url": url, "events": events})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Endpoint.objects.exists()


def test_only_admins_see_webhooks(owner_client, outsider_client, org, endpoint):
    assert owner_client.get(reverse("webhooks:settings")).status_code == 404
    delete = reverse("webhooks:delete", args=[endpoint.pk])
    assert owner_client.post(delete).status_code == 404
    assert outsider_client.post(delete).status_code == 404  # another organisation's
    assert Endpoint.objects.filter(pk=endpoint.pk).exists()


def test_deliveries_listed_and_resent(admin_client, outsider_client, endpoint, receiver, room):
    from webhooks import delivery as webhook_delivery

    row = Delivery.objects.create(
        org=room.org,
        endpoint=endpoint,
        event_id="evt_1",
        event_type="room.won",
        event_time=room.created_at,
        room=room,
        payload={"id": "evt_1", "type": "room.won"},
        status=DeliveryStatus.FAILED,
        attempts=8,
        response_code=500,
        last_error="The endpoint answered HTTP 500 (gave up after 8 attempts)",
    )
    html = admin_client.get(reverse("webhooks:settings")).content.decode()
    assert "gave up after 8 attempts" in html and "500" in html and "Resend" in html
    resend = reverse("webhooks:resend", args=[row.pk])
    assert outsider_client.post(resend).status_code == 404
    response = admin_client.post(resend)
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and row.attempts == 0
    webhook_delivery.deliver(row.pk)
    row.refresh_from_db()
    assert row.status == DeliveryStatus.DELIVERED and row.response_code == 200
    assert receiver.accepted[0].json == {"id": "evt_1", "type": "room.won"}


def test_endpoint_deleted_from_the_page(admin_client, endpoint):
    response = admin_client.post(reverse("webhooks:delete", args=[endpoint.pk]))
    assert response.status_code == 302
    assert not Endpoint.objects.exists()


def test_api_tokens_page(owner_client, owner, org, member):
    page = reverse("accounts:api_tokens")
    response = owner_client.post(page, {"name": "Salesforce sync"}, follow=True)
    assert response.status_code == 200 and response.redirect_chain == [(page, 302)]
    token = ApiToken.objects.get(user=owner)
    html = response.content.decode()
    raw = html.split('id="new-token" type="text" value="', 1)[1].split('"', 1)[0]
    assert raw.startswith("msk_") and token.prefix == raw[:10]
    assert "Shown this once" in html
    listing = owner_client.get(page).content.decode()
    assert "Salesforce sync" in listing and raw not in listing and "never" in listing

    owner_client.get("/api/v1/rooms/", HTTP_AUTHORIZATION=f"Token {raw}")
    token.refresh_from_db()
    assert token.last_used_at is not None

    # Someone else's token: not theirs to revoke.
    _, other_raw = api_token_create(membership=member.memberships.get(org=org), name="Theirs")
    other = ApiToken.objects.get(user=member)
    assert (
        owner_client.post(reverse("accounts:api_token_revoke", args=[other.pk])).status_code == 404
    )
    assert "Theirs" not in owner_client.get(page).content.decode()

    revoke = owner_client.post(reverse("accounts:api_token_revoke", args=[token.pk]))
    assert revoke.status_code == 302
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert owner_client.get("/api/v1/rooms/", HTTP_AUTHORIZATION=f"Token {raw}").status_code == 401
    assert "Revoked" in owner_client.get(page).content.decode()


def test_a_token_needs_a_name(owner_client):
    response = owner_client.post(reverse("accounts:api_tokens"), {"name": "  "})
    assert response.status_code == 422
    assert not ApiToken.objects.exists()


def test_a_change_that_commits_queues_a_dispatch(
    endpoint, receiver, room, owner, django_capture_on_commit_callbacks, request
):
    """The on-commit trigger: a relevant entry in the log queues a dispatch, which makes
    the delivery and sends it (run in-process here)."""
    from mapsite.celery import app
    from plans.services import task_update
    from rooms.actors import Actor
    from tests.factories import MilestoneFactory, PlanFactory, TaskFactory

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True
    request.addfinalizer(lambda: setattr(app.conf, "task_always_eager", eager))
    plan = PlanFactory(room=room, org=room.org)
    task = TaskFactory(milestone=MilestoneFactory(plan=plan))
    TaskFactory(milestone=task.milestone)  # the milestone stays open
    with django_capture_on_commit_callbacks(execute=True):
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=1,
            changes={"title": "Renamed"},
        )
    assert not Delivery.objects.exists()  # not an event
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=2,
            changes={"status": "done"},
        )
    assert callbacks
    assert [r.json["type"] for r in receiver.accepted] == ["task.completed"]
    assert Delivery.objects.get().status == DeliveryStatus.DELIVERED
