"""The weekly check-in: one record per review call, kept with its room."""

from django.conf import settings
from django.db import models

from plans.models import RoomOwned
from stakeholders.models import Stakeholder

MAX_TEXT = settings.MAPSITE_MAX_TEXT


class CheckIn(RoomOwned):
    """A finished weekly check-in: who attended from both sides, what was noted and
    decided, and what changed on the plan during the call (``lines``)."""

    held_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    held_by_label = models.CharField("held by", max_length=250, editable=False)
    # The period it looked back on: from the previous check-in (or the plan's start).
    period_start = models.DateTimeField("since", editable=False)
    attendees = models.ManyToManyField(Stakeholder, blank=True, related_name="+")
    notes = models.TextField(max_length=MAX_TEXT, blank=True)
    decisions = models.TextField(max_length=MAX_TEXT, blank=True)
    # What changed on the plan during the call, one entry per task:
    # [{"task": id, "title", "owner", "from": status label, "to": status label,
    #   "notes": [note, ...]}]
    lines = models.JSONField(default=list, blank=True, editable=False)
    # The schedule as it stood when the check-in was finished (plans.schedule).
    target_close_date = models.DateField(null=True, blank=True, editable=False)
    projected_close_date = models.DateField(null=True, blank=True, editable=False)
    slip_days = models.IntegerField(default=0, editable=False)
    next_review_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["room", "-created_at"])]

    def __str__(self):
        return f"Check-in of {self.created_at:%d %b %Y}"
