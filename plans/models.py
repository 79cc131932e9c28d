import datetime
import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from accounts.models import Organization
from rooms.models import Room, RoomScopedQuerySet
from stakeholders.models import Scope, Side, Stakeholder, Track

MAX_TEXT = settings.MAPSITE_MAX_TEXT


class TaskStatus(models.TextChoices):
    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    BLOCKED = "blocked", "Blocked"
    DONE = "done", "Done"


class MilestoneStatus(models.TextChoices):
    """Follows the milestone's tasks: done once it has tasks and all are done."""

    NOT_STARTED = "not_started", "Not started"
    IN_PROGRESS = "in_progress", "In progress"
    DONE = "done", "Done"


class Impact(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class OverdueLevel(models.IntegerChoices):
    """How late an open task is, as the overdue sweep records it (``Task.overdue_level``
    for its current due date): flagged at 3 days, alerted at 7. The one home of these
    thresholds: the task's flag, the sweep's SQL and the alerts' messages read them here."""

    FLAGGED = 3, "Flagged (3 days overdue)"
    ALERTED = 7, "Alerted (7 days overdue)"

    @classmethod
    def on(cls, day):
        """The level an open task due on or before ``day``'s +3 cutoff has reached that
        day, as an expression: alerted when due on or before the +7 cutoff, else flagged."""
        return models.Case(
            models.When(due_date__lte=day - datetime.timedelta(days=cls.ALERTED), then=cls.ALERTED),
            default=models.Value(int(cls.FLAGGED)),
            output_field=models.PositiveSmallIntegerField(),
        )


def reached(level):
    """A task reached ``level`` (a value or an expression) for its current due date (a
    moved date starts afresh): the one spelling of "already flagged/alerted"."""
    return models.Q(overdue_for__isnull=False, overdue_for=models.F("due_date")) & models.Q(
        overdue_level__gte=level
    )


class TaskQuerySet(RoomScopedQuerySet):
    def overdue(self, late=True):
        """Open tasks past their due date in their room's timezone (``late=False``: the
        others). One query finds the timezones in play."""
        zones = set(self.values_list("room__timezone", flat=True).distinct())
        past_due = models.Q(pk__in=[])
        for zone in zones:
            past_due |= models.Q(room__timezone=zone, due_date__lt=Room(timezone=zone).today())
        past_due &= ~models.Q(status=TaskStatus.DONE) & models.Q(due_date__isnull=False)
        return self.filter(past_due) if late else self.exclude(past_due)

    def flagged(self):
        """Open tasks the overdue sweep flagged (or alerted) for their current due date:
        what counts as overdue on the room's signals, the dashboard and the task's
        badge (``Task.overdue_flag``), the same rule the sweep writes."""
        return self.filter(reached(OverdueLevel.FLAGGED)).exclude(status=TaskStatus.DONE)

    def crossing(self, day):
        """Open tasks that are 3 or more days late on ``day`` and have not yet reached
        the level they crossed (+3, or +7) for their current due date: the overdue
        sweep's work for ``day`` (alerts.sweep claims them with this same condition)."""
        cutoff = day - datetime.timedelta(days=OverdueLevel.FLAGGED)
        return self.exclude(status=TaskStatus.DONE).filter(
            ~reached(OverdueLevel.on(day)), due_date__lte=cutoff
        )

    def visible_to(self, stakeholder):
        """What a buyer stakeholder may see: everything, or their track's tasks and
        the tasks they own."""
        rule = _visible_rule(stakeholder)
        return self if rule is None else self.filter(rule)

    def with_visibility(self, stakeholder):
        """Every task, each with ``visible``: whether ``stakeholder`` may see it (the
        rule of ``visible_to``), for a page that needs the whole plan and their part."""
        rule = _visible_rule(stakeholder)
        if rule is None:
            return self.annotate(visible=models.Value(True))
        return self.annotate(visible=models.ExpressionWrapper(rule, models.BooleanField()))


def _visible_rule(stakeholder):
    if stakeholder.scope == Scope.WHOLE_PLAN:
        return None
    return models.Q(milestone__track=stakeholder.track) | models.Q(owner=stakeholder)


class RoomOwned(models.Model):
    """Columns every plan row carries: its tenant, its room, and a lock version."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = RoomScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class Plan(RoomOwned):
    """The mutual action plan of a room. It exists once the seller starts it."""

    room = models.OneToOneField(Room, on_delete=models.CASCADE, related_name="plan")
    template = models.CharField("started from", max_length=64, blank=True)
    # The name of the template the plan was started from, as it was then (an
    # organisation's template may be renamed or deleted later; the plan keeps this).
    template_name = models.CharField("template name", max_length=120, blank=True)
    agreed_at = models.DateTimeField(null=True, blank=True)
    agreed_by = models.CharField(max_length=250, blank=True)
    agreed_by_stakeholder = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"Plan for {self.room_id}"


class Milestone(RoomOwned):
    """A decision point: one lead side, a date and a verifiable completion condition."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="milestones")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField(max_length=200)
    target_date = models.DateField("target date", null=True, blank=True)
    lead_side = models.CharField(
        "lead side", max_length=8, choices=Side.choices, default=Side.BUYER
    )
    track = models.CharField(max_length=16, choices=Track.choices, default=Track.BUSINESS)
    completion_condition = models.CharField(
        "completion condition",
        max_length=500,
        blank=True,
        help_text="The artifact that proves it is done, e.g. 'sign-off email from the CISO'.",
    )
    # The date as it stood when the buyer last agreed to the plan.
    agreed_target_date = models.DateField(null=True, blank=True, editable=False)
    # Kept by plans.services.milestone_refresh whenever its tasks change.
    status = models.CharField(
        max_length=16,
        choices=MilestoneStatus.choices,
        default=MilestoneStatus.NOT_STARTED,
        editable=False,
    )
    completed_at = models.DateTimeField("completed", null=True, blank=True, editable=False)
    depends_on = models.ManyToManyField(
        "self",
        symmetrical=False,
        blank=True,
        related_name="dependents",
        verbose_name="depends on",
    )

    class Meta:
        ordering = ["order", "created_at"]
        indexes = [models.Index(fields=["room", "order"])]

    def __str__(self):
        return self.title


class Task(RoomOwned):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="tasks")
    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="tasks")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField("action", max_length=200)
    owner = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks"
    )
    # Follows the owner's side; kept for tasks whose owner is not named yet.
    side = models.CharField(max_length=8, choices=Side.choices, default=Side.BUYER)
    due_date = models.DateField("due", null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=TaskStatus.choices, default=TaskStatus.NOT_STARTED
    )
    notes = models.TextField(max_length=MAX_TEXT, blank=True)
    evidence = models.TextField("completion evidence", max_length=MAX_TEXT, blank=True)
    completed_at = models.DateTimeField("completed", null=True, blank=True)
    # The due date as it stood when the buyer last agreed to the plan.
    agreed_due_date = models.DateField(null=True, blank=True, editable=False)
    # Highest overdue level reached (0, 3 flagged, 7 alerted) for the due date in
    # ``overdue_for``; moving the due date starts afresh. Set by the overdue sweep.
    overdue_level = models.PositiveSmallIntegerField(default=0, editable=False)
    overdue_for = models.DateField(null=True, blank=True, editable=False)

    objects = TaskQuerySet.as_manager()

    class Meta:
        ordering = ["order", "created_at"]
        indexes = [
            models.Index(fields=["room", "milestone", "order"]),
            # The overdue sweep reads open tasks by due date.
            models.Index(
                fields=["due_date"],
                condition=~models.Q(status="done"),
                name="task_open_due_idx",
            ),
            # Recounting a room's flagged and alerted tasks reads only flagged ones.
            models.Index(
                fields=["room"],
                condition=models.Q(overdue_level__gte=OverdueLevel.FLAGGED)
                & ~models.Q(status="done"),
                name="task_flagged_room_idx",
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def is_done(self):
        return self.status == TaskStatus.DONE

    @property
    def effective_side(self):
        """The owner's side when there is an owner; the planned side otherwise."""
        return self.owner.side if self.owner_id else self.side

    @property
    def buyer_editable(self):
        """Buyers update status, notes and evidence of their side's tasks only."""
        return self.effective_side == Side.BUYER

    def days_overdue(self, today):
        """Whole days past due on ``today`` (the room's date); 0 if not late or done."""
        if self.is_done or self.due_date is None or self.due_date >= today:
            return 0
        return (today - self.due_date).days

    @property
    def overdue_flag(self):
        """'alerted', 'flagged' or '' — what the sweep found for the current due date."""
        if self.is_done or not self.overdue_level or self.overdue_for != self.due_date:
            return ""
        return "alerted" if self.overdue_level >= OverdueLevel.ALERTED else "flagged"

    @property
    def reminder_sent(self):
        """Whether the sweep emailed a reminder for the current due date: at the +7
        level the owner and the buyer's champion get one (alerts.sweep)."""
        return self.overdue_flag == "alerted"

    def due_after_close(self, room):
        return bool(
            self.due_date and room.target_close_date and self.due_date > room.target_close_date
        )


class DecisionCriterion(RoomOwned):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="criteria")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField("criterion", max_length=300)
    notes = models.TextField("how it is judged", max_length=MAX_TEXT, blank=True)

    class Meta:
        ordering = ["order", "created_at"]
        verbose_name_plural = "decision criteria"

    def __str__(self):
        return self.title


class Risk(RoomOwned):
    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="risks")
    order = models.PositiveIntegerField(default=0)
    title = models.CharField("risk", max_length=300)
    impact = models.CharField(max_length=8, choices=Impact.choices, default=Impact.MEDIUM)
    mitigation = models.TextField(max_length=MAX_TEXT, blank=True)
    owner = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="risks"
    )

    class Meta:
        ordering = ["order", "created_at"]

    def __str__(self):
        return self.title


class Comment(RoomOwned):
    """A message on a task's thread; sellers and buyers in scope both read it."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="comments")
    author_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    author_stakeholder = models.ForeignKey(
        Stakeholder, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    author_label = models.CharField(max_length=250)
    body = models.TextField(max_length=MAX_TEXT)

    class Meta:
        ordering = ["created_at"]
        indexes = [models.Index(fields=["room", "task", "created_at"])]

    def __str__(self):
        return f"{self.author_label}: {self.body[:40]}"

    @property
    def from_buyer(self):
        return self.author_stakeholder_id is not None


# --- the organisation's own plan templates ("playbooks") ------------------------------------


class PlaybookQuerySet(models.QuerySet):
    def for_org(self, org_id):
        """An organisation's templates: the only way to read them (another organisation's
        do not exist for it)."""
        return self.filter(org_id=org_id)


class Playbook(models.Model):
    """A plan template an organisation keeps for itself, in the template format of
    plans/playbook_format.py: its name, slug, motion and description in columns, its
    milestones and tasks in ``body``. Applying it copies it into a room's plan, so
    editing or deleting it never changes a room started from it. Written through
    plans.services.playbooks only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=64)
    description = models.CharField(max_length=500, blank=True)
    motion = models.CharField("motion or deal size", max_length=60, blank=True)
    body = models.JSONField(default=dict)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)

    objects = PlaybookQuerySet.as_manager()

    class Meta:
        ordering = ["name", "created_at"]
        constraints = [
            models.UniqueConstraint(fields=["org", "slug"], name="playbook_unique_org_slug"),
        ]

    def __str__(self):
        return self.name

    @property
    def spec(self):
        """The template as the scheduler reads it (``PlanTemplateSpec``)."""
        from .playbook_format import playbook_load

        return playbook_load(self.as_data())

    def as_data(self):
        """The whole template in the format: columns and body together."""
        return {
            **self.body,
            "slug": self.slug,
            "name": self.name,
            "motion": self.motion,
            "description": self.description,
        }
