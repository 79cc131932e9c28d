"""Sending deliveries: signed JSON POSTs from the outbox, retried with backoff.

Like the alerts' outbox (alerts/delivery.py): a delivery is claimed with a conditional
UPDATE (pending and due → sending, attempts + 1), so whoever changes the row sends it
and a row queued twice is sent once. A 2xx answer delivers it. A failure that may pass
(network error, timeout, 408, 429, 5xx) puts it back with exponential backoff until
``WEBHOOK_MAX_ATTEMPTS``; other answers (4xx: the receiver refused it) fail it at once.
Admins see every delivery and may resend one.

Signature: ``Mapsite-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<body>"
keyed with the endpoint's secret>``.
"""

import hashlib
import hmac
import http.client
import json
import logging
import socket
import time
import urllib.error
import urllib.request
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from alerts.delivery import http_opener, retry_after_seconds, retry_delay, webhook_url_problem

from .models import Delivery, DeliveryStatus

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Mapsite-Signature"
STUCK_AFTER = timedelta(minutes=10)
ERROR_BODY_CHARS = 200


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
    """POST the delivery's payload, signed; return the HTTP status (2xx) or raise."""
    endpoint = delivery.endpoint
    problem = webhook_url_problem(endpoint.url)
    if problem:
        raise SendError(problem, retryable=False)
    body = body_bytes(delivery.payload)
    request = urllib.request.Request(
        endpoint.url,
        data=body,
        headers={
            "Content-Type": "application/json",
            "User-Agent": "mapsite-webhooks",
            "Mapsite-Event": delivery.event_type,
            "Mapsite-Event-Id": delivery.event_id,
            "Mapsite-Delivery": str(delivery.pk),
            SIGNATURE_HEADER: signature_header(endpoint.secret, body),
        },
        method="POST",
    )
    timeout = settings.WEBHOOK_HTTP_TIMEOUT
    try:
        with http_opener(urlsplit(endpoint.url).hostname).open(
            request, timeout=timeout
        ) as response:
            response.read(1024)
            return response.status
    except urllib.error.HTTPError as exc:
        code = exc.code
        try:
            text = exc.read(ERROR_BODY_CHARS).decode("utf-8", "replace").strip()
        except Exception:
            text = ""
        finally:
            exc.close()
        message = f"The endpoint answered HTTP {code}" + (f": {text}" if text else "")
        retryable = code in (408, 429) or code >= 500
        raise SendError(
            message,
            retryable=retryable,
            retry_after=retry_after_seconds(exc.headers.get("Retry-After")),
            code=code,
        ) from None
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, TimeoutError | socket.timeout):
            raise SendError(f"No answer within {timeout:g} seconds") from None
        raise SendError(f"Could not reach the endpoint: {exc.reason}") from None
    except TimeoutError:
        raise SendError(f"No answer within {timeout:g} seconds") from None
    except (http.client.HTTPException, OSError) as exc:
        raise SendError(f"Could not reach the endpoint: {exc.__class__.__name__}: {exc}") from None
    except ValueError as exc:
        raise SendError(f"Invalid URL: {exc}", retryable=False) from None


def claim(delivery_id, now=None):
    now = now or timezone.now()
    return bool(
        Delivery.objects.filter(
            pk=delivery_id, status=DeliveryStatus.PENDING, next_attempt_at__lte=now
        ).update(status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, next_attempt_at=now)
    )


def _finish(delivery_id, **fields):
    Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.SENDING).update(**fields)


def deliver(delivery_id):
    """Send one delivery if it is pending and due; its status afterwards, or None when
    there was nothing to claim."""
    if not claim(delivery_id):
        return None
    delivery = Delivery.objects.select_related("endpoint").filter(pk=delivery_id).first()
    if delivery is None:
        return None
    try:
        code = post(delivery)
    except SendError as exc:
        return _failed(delivery, exc.message, exc.retryable, exc.retry_after, exc.code)
    except Exception as exc:  # a bug: retried, and logged
        log.exception("Webhook delivery %s: unexpected error", delivery_id)
        return _failed(delivery, f"{exc.__class__.__name__}: {exc}", True, None, None)
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
    now = now or timezone.now()
    stuck = Delivery.objects.filter(
        status=DeliveryStatus.SENDING, next_attempt_at__lte=now - STUCK_AFTER
    )
    lost = "The worker stopped while sending"
    stuck.filter(attempts__gte=settings.WEBHOOK_MAX_ATTEMPTS).update(
        status=DeliveryStatus.FAILED, last_error=f"{lost} (gave up after the last attempt)"
    )
    return stuck.update(status=DeliveryStatus.PENDING, next_attempt_at=now, last_error=lost)


def deliver_due(limit=500):
    """Send every due delivery, oldest first. Returns {status: count}. An endpoint that
    just failed in a way that may pass is not tried again in this run."""
    now = timezone.now()
    requeue_stuck(now)
    rows = list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at", "created_at")
        .values_list("pk", "endpoint_id")[:limit]
    )
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
        deferred = Delivery.objects.filter(
            pk__in=ids, status=DeliveryStatus.PENDING, next_attempt_at__lt=until
        ).update(next_attempt_at=until)
        counts["deferred"] = counts.get("deferred", 0) + deferred
    return counts
