"""The alert settings page: admins only, scoped to their organisation."""

import socket

import pytest
from django.urls import reverse

from alerts import delivery
from alerts.models import AlertSettings, Channel, Notification, Status
from tests.conftest import INTERNAL_URLS, login
from tests.factories import MilestoneFactory, PlanFactory, TaskFactory

from .conftest import make_notification
from .stub import Slow

pytestmark = pytest.mark.django_db

SETTINGS_URL = reverse("alerts:settings")
TEST_URL = reverse("alerts:test")


@pytest.fixture
def admin_client(admin_user):
    return login(admin_user)


def _form(**overrides):
    data = {
        "slack_webhook_url": "https://hooks.slack.com/services/T1/B2/abc",
        "slack_enabled": "on",
        "email_enabled": "on",
        "sender_email": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


# --- who may see it -----------------------------------------------------------------


def test_admin_sees_the_page_and_the_nav_link(admin_client):
    response = admin_client.get(SETTINGS_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "Slack incoming-webhook URL" in html
    assert f'href="{SETTINGS_URL}"' in html
    assert "Send test message" in html


@pytest.mark.parametrize("client_fixture", ["member_client", "owner_client"])
def test_managers_and_reps_get_404(request, client_fixture, org):
    client = request.getfixturevalue(client_fixture)

    assert client.get(SETTINGS_URL).status_code == 404
    assert client.post(SETTINGS_URL, _form()).status_code == 404
    assert client.post(TEST_URL, _form()).status_code == 404
    assert not AlertSettings.objects.filter(org=org).exists()
    # No link to a page they cannot open.
    assert f'href="{SETTINGS_URL}"' not in client.get(reverse("rooms:list")).content.decode()


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(SETTINGS_URL)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


# --- saving -------------------------------------------------------------------------


def test_admin_saves_the_settings(admin_client, org):
    response = admin_client.post(
        SETTINGS_URL, _form(email_enabled=None, sender_email="Deals@Northwind.example")
    )

    assert response.status_code == 302 and response["Location"] == SETTINGS_URL
    saved = AlertSettings.objects.get(org=org)
    assert saved.slack_webhook_url == "https://hooks.slack.com/services/T1/B2/abc"
    assert saved.slack_enabled is True and saved.email_enabled is False
    assert saved.sender_email == "deals@northwind.example"
    page = admin_client.get(SETTINGS_URL).content.decode()
    assert "Alert settings saved." in page
    assert "https://hooks.slack.com/services/T1/B2/abc" in page


def test_saving_again_updates_the_one_row(admin_client, org):
    admin_client.post(SETTINGS_URL, _form())
    admin_client.post(SETTINGS_URL, _form(slack_webhook_url="", slack_enabled=None))

    saved = AlertSettings.objects.get(org=org)
    assert saved.slack_webhook_url == "" and saved.slack_enabled is False
    assert AlertSettings.objects.count() == 1


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("http://hooks.slack.com/services/T1/B2/abc", "must start with https://"),
        ("ftp://hooks.slack.com/x", "must start with https://"),
        ("not a url", "Enter a valid URL."),
        ("https://", "Enter a valid URL."),
    ],
)
def test_webhook_url_is_validated(admin_client, org, url, error):
    response = admin_client.post(SETTINGS_URL, _form(slack_webhook_url=url))

    assert response.status_code == 400
    assert error in response.content.decode()
    assert not AlertSettings.objects.filter(org=org).exists()


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_internal_addresses_are_refused(admin_client, org, url):
    response = admin_client.post(SETTINGS_URL, _form(slack_webhook_url=url))

    assert response.status_code == 400
    assert "This URL is not allowed" in response.content.decode()
    assert not AlertSettings.objects.filter(org=org).exists()


def test_a_local_http_webhook_is_allowed_in_a_network_the_operator_allowed(
    admin_client, org, slack_stub
):
    response = admin_client.post(SETTINGS_URL, _form(slack_webhook_url=slack_stub.url))

    assert response.status_code == 302
    assert AlertSettings.objects.get(org=org).slack_webhook_url == slack_stub.url


@pytest.mark.parametrize("production", [False, True])
def test_a_local_http_webhook_is_refused_without_the_operator_setting(
    settings, admin_client, org, production
):
    settings.PRODUCTION = production

    response = admin_client.post(SETTINGS_URL, _form(slack_webhook_url="http://127.0.0.1:9/hook"))

    assert response.status_code == 400
    assert "This URL is not allowed" in response.content.decode()
    assert not AlertSettings.objects.filter(org=org).exists()


def test_invalid_sender_is_refused(admin_client, org):
    response = admin_client.post(SETTINGS_URL, _form(sender_email="not-an-address"))

    assert "Enter a valid email address." in response.content.decode()
    assert not AlertSettings.objects.filter(org=org).exists()


# --- the test button ----------------------------------------------------------------


def test_test_button_posts_to_the_typed_url_and_reports_success(
    admin_client, admin_user, org, slack_stub
):
    response = admin_client.post(TEST_URL, _form(slack_webhook_url=slack_stub.url))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Test message delivered" in html
    assert len(slack_stub.requests) == 1
    text = slack_stub.requests[0].json["text"]
    assert "Northwind" in text and admin_user.display_name in text
    # The typed URL stays in the form; nothing is saved.
    assert slack_stub.url in html
    assert not AlertSettings.objects.filter(org=org).exists()


def test_test_button_uses_the_saved_url_when_the_box_is_empty(
    admin_client, slack_settings, slack_stub
):
    response = admin_client.post(TEST_URL, _form(slack_webhook_url=""))

    assert "Test message delivered" in response.content.decode()
    assert len(slack_stub.requests) == 1


@pytest.mark.parametrize(
    ("answer", "shown"),
    [
        (500, "Slack answered HTTP 500: internal_error"),
        ((404, {}, "no_service"), "Slack answered HTTP 404: no_service"),
        ((429, {"Retry-After": "30"}), "Slack answered HTTP 429: rate_limited"),
        ((502, {}, "<h1>Bad gateway: upstream 10.0.3.7:6379</h1>"), "Slack answered HTTP 502"),
    ],
)
def test_test_button_shows_slacks_error(admin_client, slack_stub, answer, shown):
    slack_stub.script(answer)

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=slack_stub.url))

    assert response.status_code == 200
    html = response.content.decode()
    assert "The test message was not delivered." in html
    assert shown in html
    assert 'id="test-result"' in html and "msg-error" in html


def test_test_button_reports_a_timeout(settings, admin_client, slack_stub):
    settings.ALERT_HTTP_TIMEOUT = 0.3
    slack_stub.script(Slow(1.5))

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=slack_stub.url))

    assert response.status_code == 200
    assert "Could not reach Slack: timed out" in response.content.decode()


def test_test_button_does_not_show_a_response_body(admin_client, slack_stub):
    slack_stub.script((500, {}, "redis_version:7.2.4 internal-cache-2"))

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=slack_stub.url))

    html = response.content.decode()
    assert "Slack answered HTTP 500" in html
    assert "redis_version" not in html and "internal-cache" not in html


def test_test_button_reports_an_unreachable_host(admin_client, allow_local_receivers):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=f"http://127.0.0.1:{port}/x"))

    assert response.status_code == 200
    assert "Could not reach Slack: connection refused" in response.content.decode()


def test_test_button_without_any_url(admin_client):
    response = admin_client.post(TEST_URL, _form(slack_webhook_url=""))

    assert response.status_code == 200
    assert "Enter a Slack webhook URL first." in response.content.decode()


def test_test_button_with_an_invalid_url(admin_client, slack_stub):
    response = admin_client.post(TEST_URL, _form(slack_webhook_url="http://example.com/hook"))

    assert response.status_code == 400
    html = response.content.decode()
    assert "Fix the webhook URL first." in html and "must start with https://" in html
    assert slack_stub.requests == []


@pytest.mark.parametrize("url", INTERNAL_URLS)
def test_test_button_refuses_internal_addresses(settings, admin_client, slack_stub, url):
    settings.OUTBOUND_ALLOW_NETWORKS = []

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=url))

    assert response.status_code == 400
    assert "This URL is not allowed" in response.content.decode()
    assert slack_stub.requests == []


def test_test_button_never_500s(admin_client, monkeypatch, slack_stub):
    def boom(*args, **kwargs):
        raise RuntimeError("unexpected")

    monkeypatch.setattr("alerts.views.post_to_slack", boom)

    response = admin_client.post(TEST_URL, _form(slack_webhook_url=slack_stub.url))

    assert response.status_code == 200
    html = response.content.decode()
    assert "The test message was not delivered: unexpected error." in html


def test_test_button_is_post_only(admin_client):
    assert admin_client.get(TEST_URL).status_code == 405


# --- failed notifications and retry -------------------------------------------------


@pytest.fixture
def task(room):
    plan = PlanFactory(room=room, org=room.org)
    return TaskFactory(milestone=MilestoneFactory(plan=plan), title="Security review")


def _fail_for_good(settings, org, slack_stub, task):
    """A notification that failed on its last attempt, through real delivery."""
    settings.ALERT_MAX_ATTEMPTS = 1
    slack_stub.script(503)
    n = make_notification(org, room=task.room, task=task, level=7)
    assert delivery.deliver(n.pk) == Status.FAILED
    return n


def test_failed_notifications_are_listed_for_admins(
    settings, admin_client, org, slack_settings, slack_stub, task, other_org
):
    n = _fail_for_good(settings, org, slack_stub, task)
    elsewhere = make_notification(
        other_org, status=Status.FAILED, last_error="Globex secret failure"
    )
    make_notification(
        org, channel=Channel.EMAIL, status=Status.SKIPPED, last_error="Emails are turned off"
    )

    html = admin_client.get(SETTINGS_URL).content.decode()

    assert "Failed notifications (1)" in html
    assert "Slack answered HTTP 503: internal_error (gave up after 1 attempt)" in html
    assert "team channel" in html
    assert reverse("plans:room", args=[task.room_id]) + f"#task-{task.pk}" in html
    assert "Security review" in html and task.room.name in html
    assert reverse("alerts:retry", args=[n.pk]) in html
    assert "Globex secret failure" not in html
    assert reverse("alerts:retry", args=[elsewhere.pk]) not in html
    assert "1 notification: Emails are turned off" in html


def test_retry_requeues_and_delivers(
    settings,
    admin_client,
    org,
    slack_settings,
    slack_stub,
    task,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    n = _fail_for_good(settings, org, slack_stub, task)
    settings.ALERT_MAX_ATTEMPTS = 6
    queued = []
    monkeypatch.setattr("alerts.tasks.deliver_notification.delay", lambda pk: queued.append(pk))

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = admin_client.post(reverse("alerts:retry", args=[n.pk]))

    assert response.status_code == 302 and response["Location"] == SETTINGS_URL
    assert len(callbacks) == 1 and queued == [n.pk]
    n.refresh_from_db()
    assert n.status == Status.PENDING and n.attempts == 0 and n.last_error == ""

    # What the worker then does with it.
    assert delivery.deliver(n.pk) == Status.SENT
    assert len(slack_stub.delivered) == 1
    assert "Failed notifications (0)" in admin_client.get(SETTINGS_URL).content.decode()


def test_retry_of_a_skipped_notification_after_configuring_slack(
    admin_client, org, slack_stub, monkeypatch, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("alerts.tasks.deliver_notification.delay", lambda pk: None)
    n = make_notification(org)
    assert delivery.deliver(n.pk) == Status.SKIPPED
    AlertSettings.objects.create(org=org, slack_webhook_url=slack_stub.url)

    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(reverse("alerts:retry", args=[n.pk]))

    assert delivery.deliver(n.pk) == Status.SENT


def test_retry_survives_a_broker_that_is_down(
    admin_client, org, monkeypatch, django_capture_on_commit_callbacks
):
    def down(pk):
        raise ConnectionError("broker unreachable")

    monkeypatch.setattr("alerts.tasks.deliver_notification.delay", down)
    n = make_notification(org, status=Status.FAILED, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(reverse("alerts:retry", args=[n.pk]))

    assert response.status_code == 302
    # Still pending and due: the next deliver_due run sends it.
    assert Notification.objects.get(pk=n.pk).status == Status.PENDING


def test_retry_of_a_sent_notification_changes_nothing(admin_client, org):
    n = make_notification(org, status=Status.SENT, attempts=1)

    response = admin_client.post(reverse("alerts:retry", args=[n.pk]), follow=True)

    assert "already queued or sent" in response.content.decode()
    n.refresh_from_db()
    assert n.status == Status.SENT and n.attempts == 1


def test_retry_of_another_orgs_notification_is_404(outsider_client, org):
    n = make_notification(org, status=Status.FAILED, attempts=6)

    response = outsider_client.post(reverse("alerts:retry", args=[n.pk]))

    assert response.status_code == 404
    n.refresh_from_db()
    assert n.status == Status.FAILED and n.attempts == 6


def test_retry_by_a_manager_is_404(member_client, org):
    n = make_notification(org, status=Status.FAILED, attempts=6)

    assert member_client.post(reverse("alerts:retry", args=[n.pk])).status_code == 404
    assert Notification.objects.get(pk=n.pk).status == Status.FAILED


def test_retry_is_post_only(admin_client, org):
    n = make_notification(org, status=Status.FAILED)

    assert admin_client.get(reverse("alerts:retry", args=[n.pk])).status_code == 405
