"""ActivityEvent: one change in a room (who made it, the verb, the target, each
field's before and after), the room's history that live updates, webhooks and the
activity page read; and who can be its actor (``ActorKind``, ``actor_key``).
"""

from django.conf import settings
from django.db import models
from django.utils import timezone as dj_tz

from accounts.models import Organization

from .querysets import RoomScopedQuerySet
from .room import Room


class ActorKind(models.TextChoices):
    USER = "user", "Seller"
    STAKEHOLDER = "stakeholder", "Buyer link"
    SYSTEM = "system", "System"


def actor_key(kind, user_id, ref):
    if kind == ActorKind.USER:
        return f"u{user_id}" if user_id else "u-"
    if kind == ActorKind.STAKEHOLDER:
        return f"s{ref}"
    return "system"


def copied_key(to, *, on_delete=models.CASCADE, related_name="+", **options):
    """A foreign key whose value is copied from the row's parent (a room's organisation,
    a task's room): neither indexed nor re-checked by the database at commit, for the
    tables written tens of thousands of rows at a time (the activity log, the alerts
    outbox). Rows go with their parent through the ORM, which deletes them first."""
    return models.ForeignKey(
        to,
        on_delete=on_delete,
        related_name=related_name,
        db_index=False,
        db_constraint=False,
        **options,
    )


class ActivityEvent(models.Model):
    """One change in a room, with who made it and each field's before and after."""

    class Verb(models.TextChoices):
        CREATED = "created", "created"
        UPDATED = "updated", "changed"
        DELETED = "deleted", "deleted"
        MOVED = "moved", "moved"
        APPLIED_TEMPLATE = "applied_template", "started the plan from"
        CONFLICT = "conflict", "was refused (conflict) changing"
        FLAGGED = "flagged", "flagged as 3+ days overdue:"
        ALERTED = "alerted", "alerted as 7+ days overdue:"
        LINK_ISSUED = "link_issued", "issued a personal link to"
        LINK_REVOKED = "link_revoked", "revoked the personal link of"
        AGREED = "agreed", "agreed to"
        COMMENTED = "commented", "commented on"
        COMPLETED = "completed", "completed"
        REOPENED = "reopened", "reopened"
        WON = "won", "marked the deal won:"
        LOST = "lost", "marked the deal lost:"
        FIRST_VIEW = "first_view", "opened for the first time:"
        HANDED_OVER = "handed_over", "handed the deal over to Customer Success:"
        UPLOADED = "uploaded", "uploaded"
        FEED_ISSUED = "feed_issued", "issued a calendar feed to"
        FEED_REVOKED = "feed_revoked", "revoked the calendar feed of"
        REPLANNED = "replanned", "re-planned"
        REMINDERS_STOPPED = "reminders_stopped", "stopped email reminders for"
        REMINDERS_RESUMED = "reminders_resumed", "turned email reminders back on for"
        CHECKED_IN = "checked_in", "held the weekly check-in:"

    # The overdue sweep logs one entry per room, level and batch, naming each task it
    # flagged or alerted: its changes are keyed by task id, {id: {"label": title,
    # "to": "4 days late", "days": 4}} (target_id is the task's when there is one).
    PER_TASK_VERBS = frozenset({Verb.FLAGGED, Verb.ALERTED})

    # Indexes are chosen for a table that grows with every change: the room's own
    # indexes below lead with the room; org alone is never searched; actor_user only
    # where set (a deleted user's entries are found through it); a target's entries
    # only where they carry its version (what a late writer asks for). This is an
    # append-only history: its keys are not re-checked by the database at commit (an
    # overdue sweep writes tens of thousands of entries at once). org is a copy of the
    # room's, and a room is deleted through the ORM, which deletes its entries first.
    org = copied_key(Organization)
    room = copied_key(Room, related_name="activity")
    created_at = models.DateTimeField(default=dj_tz.now)
    actor_kind = models.CharField(max_length=16, choices=ActorKind.choices)
    actor_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    actor_ref = models.CharField(max_length=64, blank=True)  # a stakeholder's id
    actor_label = models.CharField(max_length=250)
    # The open page (one window or tab) the change was made from, when it came from one;
    # live updates skip the change for that window only. Empty for the API, jobs, admin.
    actor_window = models.CharField(max_length=32, blank=True, default="", db_default="")
    verb = models.CharField(max_length=32, choices=Verb.choices)
    target_type = models.CharField(max_length=32)
    target_id = models.CharField(max_length=64, blank=True)
    target_label = models.CharField(max_length=250, blank=True)
    # The version the target reached with this change; lets a late writer learn
    # which fields moved since the version it started from.
    target_version = models.PositiveIntegerField(null=True, blank=True)
    # {field: {"label": "Due date", "from": ..., "to": ...}}
    changes = models.JSONField(default=dict, blank=True)
    # The room's revision once this change was made: live viewers ask "what changed
    # after revision N?" and get these events' targets.
    room_revision = models.PositiveBigIntegerField(default=0)

    objects = RoomScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["room", "room_revision"]),
            models.Index(fields=["room", "-created_at"]),
            models.Index(
                fields=["target_type", "target_id", "target_version"],
                condition=models.Q(target_version__isnull=False),
                name="activity_target_version_idx",
            ),
            models.Index(
                fields=["actor_user"],
                condition=models.Q(actor_user__isnull=False),
                name="activity_actor_user_idx",
            ),
        ]

    def __str__(self):
        return f"{self.actor_label} {self.get_verb_display()} {self.target_label}"

    @property
    def actor_key(self):
        """Who made the change, as the activity page's person filter names them:
        "u<user id>", "s<stakeholder id>", "u-" (a deleted user) or "system"."""
        return actor_key(self.actor_kind, self.actor_user_id, self.actor_ref)

    @classmethod
    def targets_of(cls, verb, target_id, changes):
        """(target id, what changed for it) for each target of an entry: its one target,
        or each task a sweep entry names."""
        if verb in cls.PER_TASK_VERBS:
            return list((changes or {}).items())
        return [(target_id, changes or {})]
