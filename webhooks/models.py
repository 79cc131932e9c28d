"""Outgoing webhooks: an organisation's endpoints and one delivery row per
(endpoint, event) — the unique constraint makes "each event once per endpoint" a fact."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization
from rooms.models import Room


class EventType(models.TextChoices):
    TASK_COMPLETED = "task.completed", "A task is completed"
    TASK_FLAGGED = "task.flagged", "A task is flagged (3+ days overdue)"
    TASK_ALERTED = "task.alerted", "A task is alerted (7+ days overdue)"
    MILESTONE_COMPLETED = "milestone.completed", "A milestone is completed"
    PLAN_AGREED = "plan.agreed", "The buyer agrees to the plan"
    ROOM_WON = "room.won", "A deal is won"
    ROOM_LOST = "room.lost", "A deal is lost"
    STAKEHOLDER_FIRST_VIEW = "stakeholder.first_view", "A buyer opens the room the first time"


class Endpoint(models.Model):
    """A URL of the organisation's that receives the events it subscribed to.

    ``secret`` signs every delivery (HMAC-SHA256). It is kept as is, because signing
    needs it; it is shown once, when the endpoint is created."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    url = models.URLField("URL", max_length=500)
    events = models.JSONField(default=list)
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(max_length=100)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return self.url

    def get_event_labels(self):
        return [EventType(e).label for e in self.events if e in EventType.values]


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Failed"


class Delivery(models.Model):
    """One event for one endpoint: the outbox row, with its attempts and results."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="deliveries")
    # The event's public id (the same for every endpoint) and type.
    event_id = models.CharField(max_length=80)
    event_type = models.CharField(max_length=40, choices=EventType.choices)
    # When the event happened (the activity log's time); dispatch scans by it.
    event_time = models.DateTimeField()
    room = models.ForeignKey(
        Room, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The JSON body, rendered once: a resend sends the very same event.
    payload = models.JSONField(default=dict)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event_id"], name="webhook_delivery_once_per_endpoint"
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
            models.Index(fields=["org", "-created_at"]),
            models.Index(fields=["event_time"]),
        ]

    def __str__(self):
        return f"{self.event_type} to {self.endpoint_id} ({self.status})"
