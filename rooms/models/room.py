"""Room: the deal (one buyer, one plan, everyone involved on both sides), with its
choices (stage, outcome, review day, timezone), the rules its values keep (currency,
go-live after the close) and the timezone helpers every app uses (``zone``,
``local_today``).
"""

import uuid
import zoneinfo
from datetime import date, datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone as dj_tz

from accounts.models import Organization

from .querysets import RoomQuerySet

TIMEZONE_CHOICES = sorted((tz, tz) for tz in zoneinfo.available_timezones() if "/" in tz)
TIMEZONE_CHOICES.insert(0, ("UTC", "UTC"))


class Stage(models.TextChoices):
    DISCOVERY = "discovery", "Discovery"
    EVALUATION = "evaluation", "Evaluation"
    PROPOSAL = "proposal", "Proposal"
    NEGOTIATION = "negotiation", "Negotiation"
    CLOSING = "closing", "Closing"


class Outcome(models.TextChoices):
    OPEN = "open", "Open"
    WON = "won", "Won"
    LOST = "lost", "Lost"
    HANDED_OVER = "handed_over", "Handed over"


class Weekday(models.IntegerChoices):
    MONDAY = 0, "Monday"
    TUESDAY = 1, "Tuesday"
    WEDNESDAY = 2, "Wednesday"
    THURSDAY = 3, "Thursday"
    FRIDAY = 4, "Friday"
    SATURDAY = 5, "Saturday"
    SUNDAY = 6, "Sunday"


def clean_currency(value):
    """A three-letter currency code, upper-cased; ValidationError otherwise."""
    value = (value or "").strip().upper()
    if len(value) != 3 or not value.isalpha() or not value.isascii():
        raise ValidationError("Use a three-letter currency code, e.g. USD or EUR.")
    return value


def go_live_problem(target_close_date, go_live_date):
    """Why these dates don't go together, or None."""
    if target_close_date and go_live_date and go_live_date < target_close_date:
        return "Go-live comes after the target close date."
    return None


def zone(name):
    """The timezone called ``name``; UTC for a name this machine does not know."""
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return zoneinfo.ZoneInfo("UTC")


def local_today(tz_name, now=None) -> date:
    """The date in timezone ``tz_name`` at ``now`` (default: the clock)."""
    return (now or dj_tz.now()).astimezone(zone(tz_name)).date()


class Room(models.Model):
    """A deal: one buyer, one plan, everyone involved on both sides."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="rooms")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="rooms"
    )
    name = models.CharField("deal name", max_length=200)
    buyer_company = models.CharField("buyer company", max_length=200)
    value = models.DecimalField(
        "deal value",
        max_digits=14,
        decimal_places=2,
        default=0,
        validators=[MinValueValidator(0)],
    )
    currency = models.CharField(max_length=3, default="USD")
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.DISCOVERY)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.OPEN)
    target_close_date = models.DateField("target close date")
    close_reason = models.CharField(
        "buyer's reason for the date",
        max_length=500,
        blank=True,
        help_text="Why the buyer needs it by then, in their words.",
    )
    go_live_date = models.DateField("go-live date", null=True, blank=True)
    # When the deal was marked won or lost, and why (set by rooms.services.room_close).
    closed_at = models.DateTimeField("closed", null=True, blank=True, editable=False)
    outcome_reason = models.CharField(
        "reason for the outcome", max_length=500, blank=True, editable=False
    )
    # Hand-off of a won deal to Customer Success (set by plans.services.room_handover).
    cs_owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="cs_rooms",
        verbose_name="Customer Success owner",
        editable=False,
    )
    handed_over_at = models.DateTimeField("handed over", null=True, blank=True, editable=False)
    goal = models.TextField(
        "shared goal",
        blank=True,
        max_length=settings.MAPSITE_MAX_TEXT,
        help_text="The buyer's business outcome, in their words.",
    )
    timezone = models.CharField(max_length=64, choices=TIMEZONE_CHOICES, default="UTC")
    review_weekday = models.PositiveSmallIntegerField(
        "review day", choices=Weekday.choices, null=True, blank=True
    )
    review_time = models.TimeField("review time", null=True, blank=True)
    review_duration_minutes = models.PositiveSmallIntegerField(
        "review length (minutes)",
        default=30,
        validators=[MinValueValidator(5), MaxValueValidator(480)],
    )
    # Bumped by every change anywhere in the room: the signal live viewers watch.
    revision = models.PositiveBigIntegerField(default=0)
    # Open tasks past +3 / +7 days for their current due date (kept by plans' services
    # and the overdue sweep), so lists can highlight rooms without reading tasks.
    flagged_count = models.PositiveIntegerField(default=0, editable=False)
    alerted_count = models.PositiveIntegerField(default=0, editable=False)
    # The MAP signals the dashboard sorts and filters on, kept by the services that
    # change what they count (plans.services.room_plan_recount,
    # stakeholders.services.room_people_recount, the buyer actions), so a list of
    # rooms never reads tasks. See docs/DASHBOARD.md.
    # Copies of the plan's start and the buyer's last agreement, so lists need no join.
    plan_started_at = models.DateTimeField(null=True, blank=True, editable=False)
    plan_agreed_at = models.DateTimeField(null=True, blank=True, editable=False)
    buyer_tasks_total = models.PositiveIntegerField(default=0, editable=False)
    buyer_tasks_done = models.PositiveIntegerField(default=0, editable=False)
    seller_tasks_total = models.PositiveIntegerField(default=0, editable=False)
    seller_tasks_done = models.PositiveIntegerField(default=0, editable=False)
    buyer_milestones_total = models.PositiveIntegerField(default=0, editable=False)
    buyer_milestones_done = models.PositiveIntegerField(default=0, editable=False)
    # Milestones without a completion condition ("vague completion").
    vague_milestones = models.PositiveIntegerField(default=0, editable=False)
    last_milestone_completed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the number of done tasks last changed (or the plan started): "zombie" after 21 days.
    completion_changed_at = models.DateTimeField(null=True, blank=True, editable=False)
    # The earliest open task by due date, and the earliest blocked task: the current
    # blocker is the first if it is past due, else the second (decided when read).
    next_due_task_id = models.UUIDField(null=True, blank=True, editable=False)
    next_due_date = models.DateField(null=True, blank=True, editable=False)
    blocked_task_id = models.UUIDField(null=True, blank=True, editable=False)
    blocked_due_date = models.DateField(null=True, blank=True, editable=False)
    # The plan as a schedule (plans.schedule), kept by plans.services.plan_changed and
    # refreshed by the sweep when the room's date moves on: when the last milestone is
    # projected to finish, how many days past the target close, and the day it was made.
    projected_close_date = models.DateField(null=True, blank=True, editable=False)
    slip_days = models.IntegerField(default=0, editable=False)
    schedule_on = models.DateField(null=True, blank=True, editable=False)
    # Buyers: the last time any buyer stakeholder looked or acted, and the last time one
    # edited, commented or agreed (never: a seller-only plan).
    last_buyer_activity_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_buyer_contribution_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Buyer-side people with approval authority (or the economic buyer), and when the
    # first of them opened the room (never: "approver dark").
    approver_count = models.PositiveIntegerField(default=0, editable=False)
    approver_opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    # When the last weekly check-in was finished (checkins.services.checkin_finish).
    last_check_in_at = models.DateTimeField(null=True, blank=True, editable=False)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=dj_tz.now)
    updated_at = models.DateTimeField(default=dj_tz.now)

    objects = RoomQuerySet.as_manager()

    class Meta:
        ordering = ["target_close_date", "name"]
        indexes = [
            models.Index(fields=["org", "outcome", "target_close_date"]),
            models.Index(fields=["org", "outcome", "closed_at"]),
            models.Index(fields=["org", "outcome", "slip_days"]),  # the dashboard's slip filter
        ]

    def __str__(self):
        return f"{self.name} ({self.buyer_company})"

    def write_problems(self, fields):
        """What the domain refuses in this room's values of ``fields`` (names of the
        fields a write sets), as field -> message. The write path asks every row this
        (rooms.versioning: versioned_create, versioned_update), whoever writes."""
        problems = {}
        if "currency" in fields:
            try:
                if clean_currency(self.currency) != self.currency:
                    raise ValidationError("Use a three-letter currency code, e.g. USD or EUR.")
            except ValidationError as exc:
                problems["currency"] = exc.messages[0]
        if {"target_close_date", "go_live_date"} & set(fields):
            problem = go_live_problem(self.target_close_date, self.go_live_date)
            if problem:
                problems["go_live_date"] = problem
        return problems

    @property
    def has_plan(self):
        return self.plan_started_at is not None

    @property
    def is_open(self):
        return self.outcome == Outcome.OPEN

    @property
    def is_read_only(self):
        """A lost deal is kept as it was: nothing in it changes until it is reopened."""
        return self.outcome == Outcome.LOST

    def signature_date(self):
        """The day the deal was won (in the room's timezone), or today if not closed."""
        if self.closed_at is None:
            return self.today()
        return self.closed_at.astimezone(self.tzinfo).date()

    @property
    def tzinfo(self):
        return zone(self.timezone)

    def today(self) -> date:
        """Today's date where the room lives (its timezone)."""
        return local_today(self.timezone)

    def next_review(self, now=None):
        """The next weekly review as an aware datetime in the room's timezone, or None."""
        if self.review_weekday is None or self.review_time is None:
            return None
        local = (now or dj_tz.now()).astimezone(self.tzinfo)
        days = (self.review_weekday - local.weekday()) % 7
        day = local.date() + timedelta(days=days)
        start = datetime.combine(day, self.review_time, tzinfo=self.tzinfo)
        if start <= local:
            start = datetime.combine(day + timedelta(days=7), self.review_time, tzinfo=self.tzinfo)
        return start

    @property
    def review_slot_label(self):
        if self.review_weekday is None or self.review_time is None:
            return ""
        return (
            f"{self.get_review_weekday_display()}s {self.review_time:%H:%M} "
            f"({self.review_duration_minutes} min, {self.timezone})"
        )
