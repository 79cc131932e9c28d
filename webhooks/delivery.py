"""Sending deliveries: signed JSON POSTs from the outbox, retried with backoff.

Like the alerts' outbox (alerts/delivery.py): a delivery is claimed with a conditional
UPDATE (pending and due → sending, attempts + 1), so whoever changes the row sends it
and a row queued twice is sent once (at least once if a worker dies mid-send: the
receiver tells a resend by ``Mapsite-Delivery`` and the event id). A 2xx answer
delivers it. A failure that may pass
(network error, timeout, 408, 429, 5xx) puts it back with exponential backoff until
``WEBHOOK_MAX_ATTEMPTS``; other answers (4xx: the receiver refused it) fail it at once.
Admins see every delivery and may resend one.

Signature: ``Mapsite-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>"
keyed with the endpoint's secret>``.
"""

import hashlib
import hmac
import json
import logging
import time

from django.conf import settings
from django.utils import timezone

from mapsite import outbound, outbox
from mapsite.outbox import Outbox

from .models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Mapsite-Signature"


def body_bytes(payload):
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def sign(secret, timestamp, body):
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret, body, timestamp=None):
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def verify(secret, header, body, *, tolerance=300, now=None):
    """What a receiver does (docs/API.md shows the same in a few lines)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), parts.get("v1", ""))


class SendError(Exception):
    def __init__(self, message, *, retryable=True, retry_after=None, code=None):
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.retry_after = retry_after
        self.code = code


def post(delivery):
    """POST the delivery's payload, signed, through mapsite.outbound (the address rule,
    no redirects); return the HTTP status (2xx) or raise SendError with a short status."""
    endpoint = delivery.endpoint
    body = body_bytes(delivery.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "mapsite-webhooks",
        "Mapsite-Event": delivery.event_type,
        "Mapsite-Event-Id": delivery.event_id,
        "Mapsite-Delivery": str(delivery.pk),
        SIGNATURE_HEADER: signature_header(endpoint.secret, body),
    }
    try:
        return outbound.post(endpoint.url, body, headers, settings.WEBHOOK_HTTP_TIMEOUT)
    except outbound.OutboundError as exc:
        if exc.code is None:
            message = f"Could not reach the endpoint: {exc.status}"
        else:  # never the body: it could be any page of whatever the URL reaches
            message = f"The endpoint answered {exc.status}"
        raise SendError(
            message, retryable=exc.retryable, retry_after=exc.retry_after, code=exc.code
        ) from None


OUTBOX = Outbox(Delivery, max_attempts=lambda: settings.WEBHOOK_MAX_ATTEMPTS)
claim = OUTBOX.claim
_finish = OUTBOX.finish


def retry_delay(attempts, retry_after=None):
    """The outbox's back-off (mapsite.outbox), from the same base as alerts."""
    return outbox.retry_delay(attempts, retry_after, base_seconds=settings.ALERT_RETRY_BASE_SECONDS)


def deliver(delivery_id):
    """Send one delivery if it is pending and due; its status afterwards, or None when
    there was nothing to claim. The row and its endpoint are read before the claim, so
    claim → send → mark delivered follow each other with nothing in between (a worker
    killed mid-send, the one way an event goes out twice, has as small a window as can
    be; receivers tell a resend by its Mapsite-Delivery and event id)."""
    delivery = (
        Delivery.objects.select_related("endpoint")
        .filter(pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=timezone.now())
        .first()
    )
    if delivery is None or not claim(delivery_id, attempts=delivery.attempts):
        return None
    delivery.attempts += 1
    try:
        code = post(delivery)
    except SendError as exc:
        return _failed(delivery, exc.message, exc.retryable, exc.retry_after, exc.code)
    except Exception as exc:  # a bug: retried, and logged; its text stays in the log
        log.exception("Webhook delivery %s: unexpected error", delivery_id)
        return _failed(delivery, f"unexpected error ({exc.__class__.__name__})", True, None, None)
    _finish(
        delivery_id,
        status=DeliveryStatus.DELIVERED,
        delivered_at=timezone.now(),
        response_code=code,
        last_error="",
    )
    return DeliveryStatus.DELIVERED


def _failed(delivery, error, retryable, retry_after, code):
    attempts = delivery.attempts
    error = error[:2000]
    if retryable and attempts < settings.WEBHOOK_MAX_ATTEMPTS:
        delay = retry_delay(attempts, retry_after)
        _finish(
            delivery.pk,
            status=DeliveryStatus.PENDING,
            next_attempt_at=timezone.now() + delay,
            last_error=error,
            response_code=code,
        )
        log.warning("Webhook delivery %s: attempt %s failed (%s)", delivery.pk, attempts, error)
        return DeliveryStatus.PENDING
    if retryable:
        error = f"{error} (gave up after {attempts} attempt{'' if attempts == 1 else 's'})"
    _finish(delivery.pk, status=DeliveryStatus.FAILED, last_error=error, response_code=code)
    log.error("Webhook delivery %s failed: %s", delivery.pk, error)
    return DeliveryStatus.FAILED


def requeue_stuck(now=None):
    """Deliveries left in "sending" by a worker that died: back to pending (or failed
    after the last attempt). Returns how many were put back."""
    return OUTBOX.requeue_stuck(now)[0]


def deliver_due(limit=500):
    """Send every due delivery, oldest first. Returns {status: count}. An endpoint that
    just failed in a way that may pass is not tried again in this run."""
    now = timezone.now()
    requeue_stuck(now)
    rows = OUTBOX.due(now, limit, "endpoint_id", order=("next_attempt_at", "created_at"))
    counts = {}
    resting = {}  # endpoint id -> when it may be tried again
    waiting = {}
    for delivery_id, endpoint_id in rows:
        if endpoint_id in resting:
            waiting.setdefault(endpoint_id, []).append(delivery_id)
            continue
        outcome = deliver(delivery_id)
        if outcome == DeliveryStatus.PENDING:
            resting[endpoint_id] = (
                Delivery.objects.filter(pk=delivery_id)
                .values_list("next_attempt_at", flat=True)
                .first()
            )
        if outcome is not None:
            counts[outcome] = counts.get(outcome, 0) + 1
    for endpoint_id, ids in waiting.items():
        # Wait with the endpoint, without spending an attempt.
        until = resting[endpoint_id] or now
        counts["deferred"] = counts.get("deferred", 0) + OUTBOX.defer(ids, until)
    return counts
