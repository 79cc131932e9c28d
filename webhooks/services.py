"""Endpoints, and turning the activity log into deliveries (one per endpoint and event).

``dispatch()`` scans the activity log of the last ``WEBHOOK_DISPATCH_WINDOW_MINUTES``
(not "after the last id seen": a transaction that started earlier may commit its
entries after later ones, and a cursor would skip them). Each run re-reads the whole
window and inserts the deliveries that do not exist yet; the unique constraint on
(endpoint, event id) keeps two concurrent runs, or a run and a late retry, from
making a second one. It runs after each commit that logged a relevant entry and every
minute on beat, so a lost trigger only delays delivery.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import Organization
from mapsite import outbound_rule
from mapsite.text import single_line
from rooms.models import ActivityEvent, Room

from .events import VERBS, event_type_of, occurrences, payload_for
from .models import Delivery, DeliveryStatus, Endpoint, EventType

SECRET_PREFIX = "whsec_"
MAX_ENDPOINTS = 20


class WebhookError(Exception):
    """An endpoint cannot be created that way; the message says why."""


def endpoint_create(*, membership, url, events, description=""):
    """A new endpoint of the member's organisation. Returns (endpoint, secret): the
    secret is shown to the caller this once."""
    problem = outbound_rule.url_problem(url)
    if problem:
        raise WebhookError(problem)
    events = list(dict.fromkeys(events or []))
    unknown = [e for e in events if e not in EventType.values]
    if unknown or not events:
        raise WebhookError("Pick at least one event, among: " + ", ".join(EventType.values))
    if Endpoint.objects.filter(org_id=membership.org_id).count() >= MAX_ENDPOINTS:
        raise WebhookError(f"An organisation has at most {MAX_ENDPOINTS} endpoints.")
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    endpoint = Endpoint.objects.create(
        org_id=membership.org_id,
        url=url,
        events=events,
        description=single_line(description)[:200],
        secret=secret,
        created_by=membership.user,
    )
    return endpoint, secret


def endpoint_delete(*, membership, endpoint_id):
    """Delete one of the organisation's endpoints and its deliveries."""
    endpoint = Endpoint.objects.get(pk=endpoint_id, org_id=membership.org_id)
    endpoint.delete()


def _relevant(queryset):
    others = [v for v in VERBS if v != ActivityEvent.Verb.UPDATED]
    return queryset.filter(
        Q(verb__in=others)
        | Q(verb=ActivityEvent.Verb.UPDATED, target_type="task", changes__has_key="completed_at")
    )


def _existing(endpoints, since):
    """(endpoint id, event id) of the deliveries already made for the window. Only a
    shortcut: a concurrent run may insert more after this read, and the unique
    constraint (with ``ignore_conflicts``) is what keeps each pair once."""
    return set(
        Delivery.objects.filter(event_time__gte=since - timedelta(minutes=1))
        .filter(endpoint_id__in=[e.pk for e in endpoints])
        .values_list("endpoint_id", "event_id")
    )


def dispatch(*, now=None, window=None):
    """Create the missing deliveries for events of the last ``window``. Returns how many
    rows were inserted (at most; a concurrent run may have made some)."""
    now = now or timezone.now()
    window = window or timedelta(minutes=settings.WEBHOOK_DISPATCH_WINDOW_MINUTES)
    since = now - window
    endpoints = list(Endpoint.objects.filter(created_at__lte=now))
    if not endpoints:
        return 0
    by_org = {}
    for endpoint in endpoints:
        by_org.setdefault(endpoint.org_id, []).append(endpoint)
    events = list(
        _relevant(ActivityEvent.objects.filter(created_at__gte=since, org_id__in=list(by_org)))
        .order_by("created_at", "pk")
        .only(
            "pk",
            "org_id",
            "room_id",
            "created_at",
            "verb",
            "target_type",
            "target_id",
            "target_label",
            "changes",
            "actor_kind",
            "actor_label",
        )
    )
    existing = _existing(endpoints, since)
    wanted = []
    for event in events:
        event_type = event_type_of(event)
        if event_type is None:
            continue
        for occurrence in occurrences(event, event_type):
            event_id = occurrence.id
            for endpoint in by_org.get(event.org_id, []):
                if event_type not in endpoint.events or event.created_at < endpoint.created_at:
                    continue
                if (endpoint.pk, event_id) in existing:
                    continue
                existing.add((endpoint.pk, event_id))
                wanted.append((endpoint, event, event_type, occurrence))
    if not wanted:
        return 0
    orgs = Organization.objects.in_bulk({e.org_id for _, e, _, _ in wanted})
    rooms = Room.objects.in_bulk({e.room_id for _, e, _, _ in wanted})
    payloads = {}
    rows = []
    for endpoint, event, event_type, occurrence in wanted:
        event_id = occurrence.id
        room = rooms.get(event.room_id)
        if room is None:
            continue  # the room was deleted since
        if event_id not in payloads:
            org = orgs[event.org_id]
            payloads[event_id] = payload_for(event, event_type, occurrence, org, room)
        rows.append(
            Delivery(
                org_id=event.org_id,
                endpoint=endpoint,
                event_id=event_id,
                event_type=event_type,
                event_time=event.created_at,
                room_id=event.room_id,
                payload=payloads[event_id],
                next_attempt_at=now,
            )
        )
    Delivery.objects.bulk_create(rows, ignore_conflicts=True, batch_size=500)
    return len(rows)


def delivery_resend(*, membership, delivery_id):
    """Send a delivery again (the same event id and body) with fresh attempts, once
    this commits. False when it is already waiting to be sent."""
    from .tasks import enqueue_delivery

    delivery = Delivery.objects.get(pk=delivery_id, org_id=membership.org_id)
    changed = Delivery.objects.filter(
        pk=delivery.pk, status__in=[DeliveryStatus.FAILED, DeliveryStatus.DELIVERED]
    ).update(
        status=DeliveryStatus.PENDING,
        attempts=0,
        next_attempt_at=timezone.now(),
        last_error="",
    )
    if changed:
        transaction.on_commit(lambda: enqueue_delivery(delivery.pk))
    return bool(changed)
