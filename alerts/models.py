"""Overdue flags and the notification outbox.

"Each once" is a database fact: a Notification is unique per (task, level, due date,
channel, recipient); the task itself carries the level it reached for its due date
(plans.Task.overdue_level / overdue_for), claimed by the sweep with a conditional UPDATE.
Delivery claims a notification with a conditional UPDATE, so a notification enqueued
twice is still sent once.
"""

from django.db import models
from django.utils import timezone

from accounts.models import Organization
from plans.models import OverdueLevel, Task
from rooms.models import Room, RoomScopedQuerySet, copied_key


class AlertSettings(models.Model):
    """An organisation's alert channels. Without a Slack webhook, Slack is skipped."""

    org = models.OneToOneField(
        Organization, primary_key=True, on_delete=models.CASCADE, related_name="alert_settings"
    )
    slack_webhook_url = models.URLField(
        "Slack incoming-webhook URL",
        blank=True,
        max_length=500,
        help_text="From Slack: Apps → Incoming Webhooks → Add to a channel.",
    )
    slack_enabled = models.BooleanField("send Slack alerts", default=True)
    email_enabled = models.BooleanField("send emails", default=True)
    sender_email = models.EmailField(
        "sender address", blank=True, help_text="Leave empty to use the server's default."
    )
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Alert settings of {self.org}"

    @property
    def slack_ready(self):
        return self.slack_enabled and bool(self.slack_webhook_url)


class Channel(models.TextChoices):
    SLACK = "slack", "Slack"
    EMAIL = "email", "Email"


class Status(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    SKIPPED = "skipped", "Not sent"


# A Slack incoming webhook posts to one channel: an overdue task is one post there,
# naming the people it concerns, rather than one identical post per person.
SLACK_CHANNEL = "channel"
SLACK_CHANNEL_LABEL = "team channel"


class Notification(models.Model):
    """One message to one recipient on one channel: the outbox row."""

    # Indexes (an outbox grows by tens of thousands of rows in one sweep, each index an
    # entry per row): the unique key below starts with the task, so it also serves a
    # room's list (through the room's tasks) and the deletion of a task's rows;
    # (status, next attempt) serves the outbox; org and room alone are never searched.
    # No key is re-checked by the database at commit (the check cost a sixth of a
    # sweep's time): org and room are copies of the task's, and a task is deleted
    # through the ORM, which deletes its notifications first (a room's go with its
    # tasks). A notification whose task is gone is not sent (alerts.messages).
    org = copied_key(Organization)
    room = copied_key(Room, null=True, blank=True, on_delete=models.DO_NOTHING)
    task = models.ForeignKey(
        Task,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,
        db_constraint=False,
    )
    level = models.PositiveSmallIntegerField(choices=OverdueLevel.choices, null=True, blank=True)
    # The due date the task was late against; a task moved or done before delivery is
    # not told about (alerts.messages).
    due_date = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=8, choices=Channel.choices)
    # Slack: SLACK_CHANNEL, the team's channel (the message names whom it concerns);
    # email: the address.
    recipient = models.CharField(max_length=254)
    recipient_label = models.CharField(max_length=250, blank=True)
    # {"subject": ..., "text": ...}: written at delivery time for overdue notifications
    # (the sweep leaves it empty) and kept as sent.
    payload = models.JSONField(default=dict)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["task", "level", "due_date", "channel", "recipient"],
                name="notification_once",
            )
        ]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self):
        return f"{self.channel} to {self.recipient_label or self.recipient} ({self.status})"


class EmailOptOut(models.Model):
    """A recipient who stopped email reminders for one room (the "Stop reminders" link
    of an alert email, alerts.optout). Delivery skips their reminders about that room
    only; other rooms, and other kinds of email, are not affected."""

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="email_opt_outs")
    # Lower-cased, as the outbox stores recipients.
    address = models.CharField(max_length=254)
    created_at = models.DateTimeField(default=timezone.now)

    objects = RoomScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["room", "address"], name="email_opt_out_once_per_room")
        ]

    def __str__(self):
        return f"{self.address} stopped reminders for room {self.room_id}"
