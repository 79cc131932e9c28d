"""Delivering the outbox against a real local HTTP server standing in for Slack, and
flaky email backends: retried with backoff, sent once, failed after the last attempt."""

import datetime
import socket
import threading

import pytest
from django.core import mail
from django.db import connections

from alerts import delivery
from alerts.models import AlertSettings, Channel, Notification, Status
from alerts.tasks import deliver_due as deliver_due_task
from alerts.tasks import deliver_notification
from alerts.tasks import scan_overdue as scan_overdue_task
from mapsite.celery import app as celery_app

from .conftest import make_notification
from .stub import SlackStub, Slow

pytestmark = pytest.mark.django_db


def _refresh(notification):
    notification.refresh_from_db()
    return notification


def _delay_after(notification, clock):
    """Seconds from the (frozen) clock to the notification's next attempt."""
    return (_refresh(notification).next_attempt_at - clock.now).total_seconds()


# --- Slack ------------------------------------------------------------------------


def test_slack_500_then_429_then_200_is_retried_with_backoff_and_delivered_once(
    settings, org, slack_settings, slack_stub, clock
):
    settings.ALERT_RETRY_BASE_SECONDS = 30
    slack_stub.script(500, (429, {"Retry-After": "1"}), 200)
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    first_delay = _delay_after(n, clock)
    assert n.attempts == 1 and n.status == Status.PENDING
    assert n.last_error == "Slack answered HTTP 500: internal_error"
    assert 30 <= first_delay <= 33  # base, plus at most 10 % jitter

    # Not due yet: nothing is claimed, nothing is sent.
    clock.advance(first_delay - 1)
    assert delivery.deliver(n.pk) is None
    assert len(slack_stub.requests) == 1

    clock.advance(1)
    assert delivery.deliver(n.pk) == Status.PENDING
    second_delay = _delay_after(n, clock)
    assert n.attempts == 2
    assert n.last_error == "Slack answered HTTP 429: rate_limited"
    # Doubled, and never sooner than Retry-After.
    assert 60 <= second_delay <= 66 and second_delay > first_delay

    clock.advance(second_delay)
    assert delivery.deliver(n.pk) == Status.SENT
    _refresh(n)
    assert n.status == Status.SENT and n.attempts == 3
    assert n.sent_at == clock.now and n.last_error == ""

    assert [r.status for r in slack_stub.requests] == [500, 429, 200]
    assert len(slack_stub.delivered) == 1
    received = slack_stub.delivered[0]
    assert received.path == "/services/T000/B000/XXXX"
    assert received.headers["Content-Type"] == "application/json"
    assert received.json == {"text": n.payload["text"]}
    # Sent is sent: delivering again does nothing.
    clock.advance(3600)
    assert delivery.deliver(n.pk) is None
    assert len(slack_stub.requests) == 3


def test_backoff_doubles_up_to_the_cap(settings):
    settings.ALERT_RETRY_BASE_SECONDS = 30
    lows = []
    for attempts in range(1, 10):
        delay = delivery.retry_delay(attempts).total_seconds()
        low = min(30 * 2 ** (attempts - 1), 3600)
        assert low <= delay <= min(low * 1.1, 3600)
        lows.append(low)
    assert lows[:4] == [30, 60, 120, 240] and lows[-1] == 3600


def test_retry_after_longer_than_the_backoff_is_honoured(org, slack_settings, slack_stub, clock):
    slack_stub.script((429, {"Retry-After": "900"}))
    n = make_notification(org)

    delivery.deliver(n.pk)

    assert 900 <= _delay_after(n, clock) <= 901
    clock.advance(899)
    assert delivery.deliver(n.pk) is None


def test_retry_after_as_an_http_date_is_understood(org, slack_settings, slack_stub, clock):
    when = clock.now + datetime.timedelta(seconds=600)
    slack_stub.script((503, {"Retry-After": when.strftime("%a, %d %b %Y %H:%M:%S GMT")}))
    n = make_notification(org)

    delivery.deliver(n.pk)

    assert 599 <= _delay_after(n, clock) <= 601


@pytest.mark.parametrize("status", [408, 429, 500, 502, 503, 504])
def test_slack_429_and_5xx_are_retried(org, slack_settings, slack_stub, status):
    slack_stub.script(status)
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    assert _refresh(n).last_error.startswith(f"Slack answered HTTP {status}")


@pytest.mark.parametrize(
    ("status", "body"), [(404, "no_service"), (403, "invalid_token"), (400, "invalid_payload")]
)
def test_slack_4xx_fails_at_once(org, slack_settings, slack_stub, status, body):
    slack_stub.script((status, {}, body))
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.FAILED

    _refresh(n)
    assert n.status == Status.FAILED and n.attempts == 1
    assert n.last_error == f"Slack answered HTTP {status}: {body}"
    assert len(slack_stub.requests) == 1


def test_last_attempt_marks_failed(settings, org, slack_settings, slack_stub, clock):
    settings.ALERT_MAX_ATTEMPTS = 3
    slack_stub.script(503, 502, 500, 500)
    n = make_notification(org)

    outcomes = []
    for _ in range(3):
        outcomes.append(delivery.deliver(n.pk))
        clock.advance(3600)

    assert outcomes == [Status.PENDING, Status.PENDING, Status.FAILED]
    _refresh(n)
    assert n.status == Status.FAILED and n.attempts == 3
    assert n.last_error == "Slack answered HTTP 500: internal_error (gave up after 3 attempts)"
    assert delivery.deliver(n.pk) is None
    assert len(slack_stub.requests) == 3


def test_timeout_is_retried(settings, org, slack_settings, slack_stub):
    settings.ALERT_HTTP_TIMEOUT = 0.3
    slack_stub.script(Slow(1.5))
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    assert _refresh(n).last_error == "Could not reach Slack: timed out"


def test_connection_refused_is_retried(org, allow_local_receivers):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    AlertSettings.objects.create(org=org, slack_webhook_url=f"http://127.0.0.1:{port}/hook")
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    assert _refresh(n).last_error == "Could not reach Slack: connection refused"


@pytest.mark.parametrize(
    "body",
    [
        "redis_version:7.2.4\r\nos:Linux 6.1 internal-cache-2",
        "<html><title>Jenkins [internal-ci:8080]</title></html>",
        "invalid token, see https://api.slack.com/messaging/webhooks",
    ],
)
def test_a_response_body_is_never_kept(org, slack_settings, slack_stub, body):
    """Only Slack's bare error codes ([a-z_]) are kept; anything else is left out."""
    slack_stub.script((500, {}, body))
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    assert _refresh(n).last_error == "Slack answered HTTP 500"


def test_a_url_saved_before_the_rule_is_refused_when_connecting(org, slack_stub, settings):
    """A row written without the form (an old row, a bulk import): the address is
    checked again when connecting; localhost resolves to 127.0.0.1 (/etc/hosts)."""
    settings.OUTBOUND_ALLOW_NETWORKS = []
    AlertSettings.objects.create(
        org=org, slack_webhook_url=f"https://localhost:{slack_stub.port}/services/x"
    )
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.FAILED
    assert _refresh(n).last_error == "Could not reach Slack: address not allowed"
    assert n.attempts == 1
    assert slack_stub.requests == []


def test_slack_gets_the_message_as_written(org, slack_settings, slack_stub):
    n = make_notification(
        org, recipient_label="team channel", payload={"subject": "s", "text": "Task is late."}
    )

    delivery.deliver(n.pk)

    assert slack_stub.delivered[0].json == {"text": "Task is late."}


def test_without_a_webhook_slack_is_skipped_with_the_reason(org, slack_stub):
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.SKIPPED

    _refresh(n)
    assert n.status == Status.SKIPPED
    assert n.last_error == "Slack is not configured for this organisation"
    assert slack_stub.requests == []
    # Skipped is final: no retry.
    assert delivery.deliver(n.pk) is None


def test_slack_turned_off_is_skipped(org, slack_settings, slack_stub):
    slack_settings.slack_enabled = False
    slack_settings.save()
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.SKIPPED
    assert _refresh(n).last_error == "Slack alerts are turned off"
    assert slack_stub.requests == []


def test_a_plain_http_webhook_elsewhere_is_refused_at_send_time(org, slack_stub):
    AlertSettings.objects.create(org=org, slack_webhook_url="http://8.8.8.8/x")
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.FAILED
    assert _refresh(n).last_error == "Could not reach Slack: URL not allowed"


def test_without_the_operator_setting_the_local_stub_is_not_reached(
    settings, org, slack_settings, slack_stub
):
    settings.OUTBOUND_ALLOW_NETWORKS = []
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.FAILED
    assert _refresh(n).last_error == "Could not reach Slack: address not allowed"
    assert slack_stub.requests == []


def test_a_redirect_is_not_followed(org, slack_settings, slack_stub):
    elsewhere = SlackStub().start()
    slack_stub.script((302, {"Location": elsewhere.url}, ""))
    n = make_notification(org)
    try:
        assert delivery.deliver(n.pk) == Status.FAILED
    finally:
        elsewhere.stop()

    assert _refresh(n).last_error == "Slack answered HTTP 302 (a redirect; check the webhook URL)"
    assert len(slack_stub.requests) == 1 and elsewhere.requests == []


# --- email ------------------------------------------------------------------------


def test_smtp_failure_is_retried_and_the_mail_sent_once(org, flaky_smtp, clock):
    n = make_notification(org, channel=Channel.EMAIL)

    assert delivery.deliver(n.pk) == Status.PENDING
    _refresh(n)
    assert n.attempts == 1
    assert n.last_error.startswith("Email not sent: SMTPServerDisconnected")
    assert len(mail.outbox) == 0

    clock.advance(_delay_after(n, clock))
    assert delivery.deliver(n.pk) == Status.SENT

    _refresh(n)
    assert n.status == Status.SENT and n.attempts == 2
    assert flaky_smtp.attempts == 2
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["champion@acme.example"]
    assert message.subject == "Alert: Security review"
    assert message.body.strip() == n.payload["text"]
    assert message.from_email == "mapsite <no-reply@mapsite.localhost>"


def test_email_uses_the_organisations_sender(org, mailoutbox):
    AlertSettings.objects.create(org=org, sender_email="deals@northwind.example")
    n = make_notification(org, channel=Channel.EMAIL)

    assert delivery.deliver(n.pk) == Status.SENT
    assert mailoutbox[0].from_email == "deals@northwind.example"


def test_email_without_settings_uses_the_default_sender(org, mailoutbox):
    n = make_notification(org, channel=Channel.EMAIL)

    assert delivery.deliver(n.pk) == Status.SENT
    assert len(mailoutbox) == 1


def test_an_email_sent_twice_carries_the_same_message_id(settings, org, mailoutbox, clock):
    """Delivery is at least once: a worker killed after the mail server took a message,
    before marking it sent, leaves the row "sending"; it is put back and sent again.
    Both copies carry the same Message-ID, so the second is recognisable as a resend."""
    settings.SITE_URL = "https://rooms.example.com"
    n = make_notification(org, channel=Channel.EMAIL)
    other = make_notification(org, channel=Channel.EMAIL, recipient="cfo@acme.example")

    assert delivery.deliver(n.pk) == Status.SENT
    # What the killed worker leaves behind: claimed, sent, never marked.
    Notification.objects.filter(pk=n.pk).update(
        status=Status.SENDING, sent_at=None, next_attempt_at=clock.now
    )
    clock.advance(11 * 60)
    assert delivery.deliver_due() == {Status.SENT: 2}

    ids = {}
    for message in mailoutbox:
        ids.setdefault(message.to[0], []).append(message.message()["Message-ID"])
    assert ids == {
        "champion@acme.example": [f"<alert.{org.pk.hex}.{n.pk}@rooms.example.com>"] * 2,
        "cfo@acme.example": [f"<alert.{org.pk.hex}.{other.pk}@rooms.example.com>"],
    }
    assert _refresh(n).attempts == 2


def test_emails_turned_off_are_skipped(org, mailoutbox):
    AlertSettings.objects.create(org=org, email_enabled=False)
    n = make_notification(org, channel=Channel.EMAIL)

    assert delivery.deliver(n.pk) == Status.SKIPPED
    assert _refresh(n).last_error == "Emails are turned off"
    assert mailoutbox == []


def test_a_refused_recipient_fails_at_once(settings, org):
    settings.MAILERS = {"default": {"BACKEND": "tests.alerts.backends.RefusingSMTPBackend"}}
    n = make_notification(org, channel=Channel.EMAIL)

    assert delivery.deliver(n.pk) == Status.FAILED
    assert "550" in _refresh(n).last_error and n.attempts == 1


def test_an_unexpected_error_is_retried_not_lost(org, slack_settings, monkeypatch):
    def boom(*args, **kwargs):
        raise RuntimeError("something odd")

    monkeypatch.setattr(delivery, "post_to_slack", boom)
    n = make_notification(org)

    assert delivery.deliver(n.pk) == Status.PENDING
    # Its text may say anything: the log has it, the tenant sees the kind of error only.
    assert _refresh(n).last_error == "unexpected error (RuntimeError)"


# --- deliver_due ------------------------------------------------------------------


def test_deliver_due_sends_what_is_due_oldest_first(org, slack_settings, slack_stub, clock):
    later = make_notification(org, next_attempt_at=clock.now + datetime.timedelta(minutes=5))
    second = make_notification(org, next_attempt_at=clock.now - datetime.timedelta(minutes=1))
    first = make_notification(
        org,
        next_attempt_at=clock.now - datetime.timedelta(minutes=2),
        payload={"subject": "s", "text": "first"},
    )
    sent = make_notification(org, status=Status.SENT)

    assert delivery.deliver_due() == {Status.SENT: 2}

    assert [r.json["text"] for r in slack_stub.requests][0] == "first"
    assert _refresh(first).status == _refresh(second).status == Status.SENT
    assert _refresh(later).status == Status.PENDING
    assert _refresh(sent).attempts == 0
    assert len(slack_stub.requests) == 2


def test_a_rate_limited_webhook_is_left_alone_for_the_rest_of_the_run(
    org, other_org, slack_settings, slack_stub, clock
):
    """A burst meeting Slack's rate limit costs one attempt, not one per message."""
    AlertSettings.objects.create(org=other_org, slack_webhook_url=slack_stub.url + "/other")
    slack_stub.script((429, {"Retry-After": "120"}))
    ours = [make_notification(org) for _ in range(3)]
    theirs = make_notification(other_org)

    counts = delivery.deliver_due()

    assert counts == {Status.PENDING: 1, Status.SENT: 1, "deferred": 2}
    assert len(slack_stub.requests) == 2  # one 429 for us, one 200 for the other org
    first, *rest = (_refresh(n) for n in ours)
    assert first.attempts == 1 and first.last_error.startswith("Slack answered HTTP 429")
    for n in rest:
        assert n.status == Status.PENDING and n.attempts == 0
        assert n.next_attempt_at == first.next_attempt_at
    assert (first.next_attempt_at - clock.now).total_seconds() >= 120
    assert _refresh(theirs).status == Status.SENT

    clock.advance(to=first.next_attempt_at)
    assert delivery.deliver_due() == {Status.SENT: 3}
    assert [_refresh(n).attempts for n in ours] == [2, 1, 1]


def test_a_mail_server_that_is_down_is_left_alone_for_the_rest_of_the_run(org, flaky_smtp, clock):
    emails = [make_notification(org, channel=Channel.EMAIL) for _ in range(3)]

    assert delivery.deliver_due() == {Status.PENDING: 1, "deferred": 2}
    assert flaky_smtp.attempts == 1

    clock.advance(3600)
    assert delivery.deliver_due() == {Status.SENT: 3}
    assert len(mail.outbox) == 3
    assert [_refresh(n).attempts for n in emails] == [2, 1, 1]


def test_deliver_due_respects_the_limit(org, slack_settings, slack_stub):
    for _ in range(3):
        make_notification(org)

    assert delivery.deliver_due(limit=2) == {Status.SENT: 2}
    assert Notification.objects.filter(status=Status.PENDING).count() == 1


def test_deliver_due_puts_back_rows_a_dead_worker_left_sending(
    settings, org, slack_settings, slack_stub, clock
):
    settings.ALERT_MAX_ATTEMPTS = 6
    claimed_long_ago = clock.now - datetime.timedelta(minutes=11)
    stuck = make_notification(
        org, status=Status.SENDING, attempts=1, next_attempt_at=claimed_long_ago
    )
    busy = make_notification(
        org,
        status=Status.SENDING,
        attempts=1,
        next_attempt_at=clock.now - datetime.timedelta(minutes=2),
    )
    dead_last = make_notification(
        org, status=Status.SENDING, attempts=6, next_attempt_at=claimed_long_ago
    )

    delivery.deliver_due()

    assert _refresh(stuck).status == Status.SENT and stuck.attempts == 2
    assert _refresh(busy).status == Status.SENDING  # still within its time
    assert _refresh(dead_last).status == Status.FAILED
    assert "worker stopped" in dead_last.last_error
    assert len(slack_stub.requests) == 1


def test_tasks_are_registered_under_their_names(org, slack_settings, slack_stub):
    celery_app.loader.import_default_modules()  # what a worker does when it starts
    names = set(celery_app.tasks.keys())
    assert {
        "alerts.tasks.deliver_notification",
        "alerts.tasks.deliver_due",
        "alerts.tasks.scan_overdue",
    } <= names
    for entry in celery_app.conf.beat_schedule.values():
        assert entry["task"] in names
    n = make_notification(org)

    assert deliver_notification(n.pk) == Status.SENT
    assert deliver_due_task() == {}
    assert isinstance(scan_overdue_task(), str)  # the sweep's summary, nothing overdue
    assert len(slack_stub.requests) == 1


# --- concurrency ------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_five_workers_delivering_the_same_notification_send_it_once(
    org, slack_settings, slack_stub
):
    slack_stub.script(Slow(0.3))  # a slow Slack widens any window there could be
    n = make_notification(org)
    barrier = threading.Barrier(5)
    outcomes, errors = [], []

    def work():
        try:
            barrier.wait()
            outcomes.append(delivery.deliver(n.pk))
        except Exception as exc:
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert errors == []
    assert outcomes.count(Status.SENT) == 1 and outcomes.count(None) == 4
    assert len(slack_stub.requests) == 1
    _refresh(n)
    assert n.status == Status.SENT and n.attempts == 1
