"""Delivering the outbox: one notification at a time, each sent once.

``deliver(id)`` claims a due, pending notification with a conditional UPDATE (pending
→ sending, attempts + 1): whoever changes the row sends it, everybody else finds
nothing to claim. So the same id enqueued twice, or handed to five workers at once,
is still sent once. The one exception: a worker killed after the channel took the
message but before it marked the row sent leaves it "sending"; ``deliver_due`` puts it
back and it goes out again. Delivery is therefore at least once: emails carry the same
Message-ID on every attempt, Slack has no such key (docs/OPERATIONS.md, Security).

Outcomes:

- sent: the channel accepted it;
- pending again, later: a failure that may pass (network error, timeout, Slack 429 or
  5xx, an SMTP error), with exponential backoff and Slack's Retry-After honoured, until
  ``ALERT_MAX_ATTEMPTS`` attempts were made;
- failed: the last attempt failed, or the failure will not pass by waiting (Slack
  answered 4xx: a revoked webhook, a malformed request) — admins see it and may retry;
- skipped: the channel is not configured or turned off for the organisation; the
  reason is kept in ``last_error``.

``deliver_due()`` (beat, every minute, and after each sweep) sends whatever is due and
puts back rows a worker left in "sending" when it died.
"""

import json
import logging
import smtplib
from urllib.parse import urlsplit

from django.conf import settings
from django.utils import timezone

from mapsite import emails, outbound, outbox
from mapsite.outbox import Outbox

from . import messages, optout
from .models import AlertSettings, Channel, Notification, Status

log = logging.getLogger(__name__)

# Longest wait between two attempts, whatever the backoff or Retry-After say.
# A row still "sending" this long after it was claimed belonged to a worker that died.

NO_SLACK = "Slack is not configured for this organisation"
SLACK_OFF = "Slack alerts are turned off"
EMAIL_OFF = "Emails are turned off"


class DeliveryError(Exception):
    """A channel refused or could not take the message. ``retryable``: waiting may
    help; ``retry_after``: seconds the channel asked us to wait (Slack's Retry-After)."""

    def __init__(self, message, *, retryable=True, retry_after=None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after

    def __str__(self):
        return self.message


# --- Slack ----------------------------------------------------------------------------


def post_to_slack(url, text, *, timeout=None):
    """POST ``{"text": text}`` to an incoming-webhook URL through mapsite.outbound (the
    address rule, no redirects); raise DeliveryError with a short status if it was not
    accepted (``retryable`` tells whether waiting may help)."""
    timeout = settings.ALERT_HTTP_TIMEOUT if timeout is None else timeout
    try:
        outbound.post(
            url,
            json.dumps({"text": text}).encode(),
            {"Content-Type": "application/json", "User-Agent": "mapsite-alerts"},
            timeout,
        )
    except outbound.OutboundError as exc:
        raise DeliveryError(
            _slack_status(exc), retryable=exc.retryable, retry_after=exc.retry_after
        ) from None


def _slack_status(exc):
    """What the admin is told: the short status, and Slack's own error code when its
    answer was nothing but one (``invalid_token``, ``no_service``, …); never a body."""
    if exc.code is None:
        return f"Could not reach Slack: {exc.status}"
    if 300 <= exc.code < 400:
        return f"Slack answered HTTP {exc.code} (a redirect; check the webhook URL)"
    return f"Slack answered HTTP {exc.code}" + (f": {exc.error_code}" if exc.error_code else "")


# --- email ----------------------------------------------------------------------------


def message_id(notification):
    """The notification's Message-ID, the same on every attempt, so a message sent
    twice (delivery is at least once) is recognisable as one: from its id, its
    organisation's (installations sharing a domain differ there) and the site's domain."""
    domain = urlsplit(settings.SITE_URL).hostname or "localhost"
    if ":" in domain:
        domain = f"[{domain}]"
    org = str(notification.org_id).replace("-", "")
    return f"<alert.{org}.{notification.pk}@{domain}>"


def email_for(notification, payload, alert_settings):
    """The email of one notification (mapsite.emails, the "alert" pair): from the room
    owner's name at the server's (or the organisation's sender) address, replies to
    the owner; an overdue reminder carries the stop link (List-Unsubscribe, RFC 8058)
    and, for a buyer, the page to ask for a new personal link. The links are made now,
    never stored."""
    room = notification.room if notification.room_id else None
    address = alert_settings.sender_email if alert_settings else None
    context = {
        "text": payload.get("text") or "",
        "body": payload.get("body") or payload.get("text") or "",
        "link": payload.get("link") or "",
        "link_label": payload.get("link_label") or "Open the plan",
    }
    sender, reply_to, headers = ("", "", address), None, {}
    if notification.pk:
        headers["Message-ID"] = message_id(notification)
    if room is not None:
        owner = room.owner
        sender = (owner.display_name if owner else "", room.org.name, address)
        reply_to = owner.email if owner else None
        if notification.task_id:
            stop = optout.stop_url(room, notification.recipient)
            context["stop_url"] = stop
            headers["List-Unsubscribe"] = f"<{stop}>"
            headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
            if payload.get("buyer"):
                context["new_link_url"] = optout.new_link_url(room, notification.recipient)
            context["room_name"] = room.name
    return emails.build(
        "alert",
        context,
        subject=payload.get("subject") or "mapsite",
        to=[notification.recipient],
        sender=sender,
        reply_to=reply_to,
        headers=headers,
    )


def send_email(message):
    to = ", ".join(message.to)
    try:
        message.send()
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _msg in exc.recipients.values()]
        first = message.to[0] if message.to else ""
        refused = f"The mail server refused {to}: {_smtp_detail(exc.recipients.get(first))}"
        raise DeliveryError(refused, retryable=not all(c >= 500 for c in codes)) from None
    except smtplib.SMTPException as exc:
        raise DeliveryError(f"Email not sent: {exc.__class__.__name__}: {exc}") from None
    except TimeoutError:
        raise DeliveryError("Email not sent: the mail server timed out") from None
    except OSError as exc:
        raise DeliveryError(f"Email not sent: could not reach the mail server: {exc}") from None
    except ValueError as exc:  # a malformed address or header
        raise DeliveryError(f"Email not sent: {exc}", retryable=False) from None


def _smtp_detail(value):
    if not value:
        return "refused"
    code, message = value
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {message}"


# --- the outbox -----------------------------------------------------------------------


OUTBOX = Outbox(Notification, max_attempts=lambda: settings.ALERT_MAX_ATTEMPTS)
claim = OUTBOX.claim
_finish = OUTBOX.finish


def retry_delay(attempts, retry_after=None):
    """The outbox's back-off (mapsite.outbox) from ALERT_RETRY_BASE_SECONDS."""
    return outbox.retry_delay(attempts, retry_after, base_seconds=settings.ALERT_RETRY_BASE_SECONDS)


def _message(notification, schedules=None):
    """The notification's words: as stored (test messages, or a retry of one already
    written), or rendered now from the task as it is (alerts.messages; ``schedules``
    keeps each room's schedule for the other messages of the same run)."""
    if (notification.payload or {}).get("text") or notification.task_id is None:
        return notification.payload or {}
    message = messages.render(notification, schedules=schedules)
    if message.skip_reason:
        return {"skip": message.skip_reason}
    return message.payload()


def _opted_out(notification):
    """An overdue reminder to an address that stopped reminders for its room."""
    return (
        notification.channel == Channel.EMAIL
        and notification.task_id is not None
        and notification.room_id is not None
        and optout.is_opted_out(notification.room_id, notification.recipient)
    )


def _send(notification, alert_settings):
    """Send one claimed notification; return a skip reason, or None once sent."""
    payload = notification.payload or {}
    if payload.get("skip"):
        return payload["skip"]
    if notification.channel == Channel.SLACK:
        if alert_settings is None or not alert_settings.slack_webhook_url:
            return NO_SLACK
        if not alert_settings.slack_enabled:
            return SLACK_OFF
        post_to_slack(alert_settings.slack_webhook_url, payload.get("text") or "")
        return None
    if notification.channel == Channel.EMAIL:
        if alert_settings is not None and not alert_settings.email_enabled:
            return EMAIL_OFF
        send_email(email_for(notification, payload, alert_settings))
        return None
    raise DeliveryError(f"Unknown channel {notification.channel!r}", retryable=False)


def _channel_key(channel, org_id):
    """What one failure says something about: an organisation's webhook, or the one
    mail server everybody shares."""
    return (channel, org_id) if channel == Channel.SLACK else (channel,)


def deliver(notification_id, *, breaker=None, schedules=None):
    """Send one notification if it is pending and due. Returns its status afterwards
    ("sent", "pending", "failed", "skipped"), or None when there was nothing to claim
    (not due, already sent, or another worker has it).

    Everything that takes time is done before the claim (reading the row and the
    settings, writing the message from the task), so claim → send → mark sent follow
    each other with nothing in between: a worker killed mid-send, the one way a message
    goes out twice, has as small a window as can be.

    ``breaker`` (a dict, from ``deliver_due``) records channels that just failed in a
    way that may pass, with the time they may be tried again; ``schedules`` (a dict,
    from ``deliver_due``) keeps each room's schedule, projected once for the run."""
    notification = (
        Notification.objects.filter(
            pk=notification_id, status=Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .select_related("room__owner", "room__org")
        .first()
    )
    if notification is None:
        return None
    alert_settings = AlertSettings.objects.filter(org_id=notification.org_id).first()
    unexpected = None
    try:
        if _opted_out(notification):
            notification.payload = {**(notification.payload or {}), "skip": optout.OPTED_OUT}
        else:
            notification.payload = _message(notification, schedules)
    except Exception as exc:  # a bug: recorded as an attempt below, and logged
        log.exception("Notification %s: unexpected error while writing it", notification_id)
        unexpected = exc
    if not claim(notification_id, attempts=notification.attempts):
        return None
    notification.attempts += 1
    if unexpected is not None:
        return _unexpected(notification, unexpected)
    try:
        skipped = _send(notification, alert_settings)
    except DeliveryError as exc:
        status, next_at = _failed(notification, exc.message, exc.retryable, exc.retry_after)
        if next_at is not None and breaker is not None:
            breaker[_channel_key(notification.channel, notification.org_id)] = next_at
        return status
    except Exception as exc:  # a bug or an unforeseen error: retried, and logged
        log.exception("Notification %s: unexpected error while sending", notification_id)
        return _unexpected(notification, exc)
    if skipped:
        _finish(notification_id, status=Status.SKIPPED, last_error=skipped)
        log.info("Notification %s not sent: %s", notification_id, skipped)
        return Status.SKIPPED
    _finish(
        notification_id,
        status=Status.SENT,
        sent_at=timezone.now(),
        last_error="",
        payload=notification.payload,
    )
    log.info(
        "Notification %s sent (%s, attempt %s)",
        notification_id,
        notification.channel,
        notification.attempts,
    )
    return Status.SENT


def _unexpected(notification, exc):
    """An error nobody foresaw: retried like a passing failure. Its text stays in the
    server's log; the tenant is shown its kind only (it may quote anything)."""
    return _failed(notification, f"unexpected error ({exc.__class__.__name__})", True, None)[0]


def _failed(notification, error, retryable, retry_after):
    """Record a failed attempt: (status, when the channel may be tried again — None for
    a failure that waiting will not cure)."""
    attempts = notification.attempts
    error = error[:2000]
    now = timezone.now()
    delay = retry_delay(attempts, retry_after)
    next_at = now + delay if retryable else None
    if retryable and attempts < settings.ALERT_MAX_ATTEMPTS:
        _finish(
            notification.pk,
            status=Status.PENDING,
            next_attempt_at=next_at,
            last_error=error,
        )
        log.warning(
            "Notification %s: attempt %s failed (%s); next in %ds",
            notification.pk,
            attempts,
            error,
            delay.total_seconds(),
        )
        return Status.PENDING, next_at
    if retryable:
        error = f"{error} (gave up after {attempts} attempt{'' if attempts == 1 else 's'})"
    _finish(notification.pk, status=Status.FAILED, last_error=error)
    log.error("Notification %s failed: %s", notification.pk, error)
    return Status.FAILED, next_at


def requeue_stuck(now=None):
    """Rows left in "sending" by a worker that died: back to pending (or failed when
    that was their last attempt). Returns how many were put back."""
    requeued, failed = OUTBOX.requeue_stuck(now)
    if failed or requeued:
        log.warning("Put back %s stuck notification(s), %s failed", requeued, failed)
    return requeued


def deliver_due(limit=500):
    """Send every due, pending notification (oldest first, at most ``limit``).
    Returns {status: count} of what happened.

    Once a channel fails in a way that may pass (Slack 429 or 5xx, a timeout, the mail
    server down), the run stops using it: the rest of that channel's notifications wait
    until it may be tried again, without spending an attempt. So a burst that meets
    Slack's rate limit costs one attempt, not one per notification."""
    now = timezone.now()
    requeue_stuck(now)
    rows = OUTBOX.due(now, limit, "org_id", "channel")
    counts = {}
    breaker = {}
    waiting = {}
    schedules = {}  # (room id, its date) -> its schedule, for every message of the room
    for notification_id, org_id, channel in rows:
        key = _channel_key(channel, org_id)
        if key in breaker:
            waiting.setdefault(breaker[key], []).append(notification_id)
            continue
        outcome = deliver(notification_id, breaker=breaker, schedules=schedules)
        if outcome is not None:
            counts[outcome] = counts.get(outcome, 0) + 1
    for until, ids in waiting.items():
        counts["deferred"] = counts.get("deferred", 0) + OUTBOX.defer(ids, until)
    return counts


def retry(notification):
    """Put a failed or not-sent notification back in the outbox with fresh attempts and
    queue it once this commits. False if it is already queued or sent."""
    from django.db import transaction

    from .tasks import enqueue_notification

    changed = Notification.objects.filter(
        pk=notification.pk, status__in=[Status.FAILED, Status.SKIPPED]
    ).update(status=Status.PENDING, attempts=0, next_attempt_at=timezone.now(), last_error="")
    if changed:
        transaction.on_commit(lambda: enqueue_notification(notification.pk))
    return bool(changed)
