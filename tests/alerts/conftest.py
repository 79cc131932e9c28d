import datetime

import pytest
from django.utils import timezone

from alerts.models import AlertSettings, Channel, Notification

from .backends import FlakySMTPBackend
from .stub import SlackStub


@pytest.fixture
def slack_stub(allow_local_receivers):
    """A stand-in for Slack on 127.0.0.1, reachable because the tests allow that
    network the way an operator would (OUTBOUND_ALLOW_NETWORKS)."""
    stub = SlackStub().start()
    yield stub
    stub.stop()


@pytest.fixture
def slack_settings(org, slack_stub):
    """The organisation's Slack goes to the local stub."""
    return AlertSettings.objects.create(org=org, slack_webhook_url=slack_stub.url)


@pytest.fixture
def flaky_smtp(settings):
    settings.MAILERS = {"default": {"BACKEND": "tests.alerts.backends.FlakySMTPBackend"}}
    FlakySMTPBackend.failures = 1
    FlakySMTPBackend.attempts = 0
    yield FlakySMTPBackend
    FlakySMTPBackend.failures = 1
    FlakySMTPBackend.attempts = 0


def make_notification(org, channel=Channel.SLACK, **fields):
    defaults = {
        "recipient": "channel" if channel == Channel.SLACK else "champion@acme.example",
        "recipient_label": "team channel" if channel == Channel.SLACK else "Cleo Champion",
        "payload": {
            "subject": "Alert: Security review",
            "text": "Ann Owner: “Security review” in Acme Corp is 7 days overdue.",
        },
        "next_attempt_at": timezone.now(),
    }
    return Notification.objects.create(org=org, channel=channel, **{**defaults, **fields})


class Clock:
    """A frozen ``timezone.now`` that tests move forward by hand."""

    def __init__(self):
        self.now = timezone.now()

    def __call__(self):
        return self.now

    def advance(self, seconds=0, *, to=None):
        self.now = to if to is not None else self.now + datetime.timedelta(seconds=seconds)


@pytest.fixture
def clock(monkeypatch):
    frozen = Clock()
    monkeypatch.setattr(timezone, "now", frozen)
    return frozen
