import uuid

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import Organization
from rooms.models import Room, RoomScopedQuerySet

PLACEHOLDER_NAMES = frozenset({"tbd", "tba", "legal", "security", "procurement", "it", "?"})


def clean_person_name(value):
    """A stakeholder is a named person, never a team or a placeholder ("TBD", "legal")."""
    name = (value or "").strip()
    if name.lower() in PLACEHOLDER_NAMES:
        raise ValidationError("Name a person, not a team or a placeholder.")
    return name


class Side(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"


class Track(models.TextChoices):
    BUSINESS = "business", "Business"
    TECHNICAL = "technical", "Technical"
    SECURITY = "security", "Security / IT"
    LEGAL = "legal", "Legal"
    PROCUREMENT = "procurement", "Procurement"


class DecisionRole(models.TextChoices):
    CHAMPION = "champion", "Champion"
    ECONOMIC_BUYER = "economic_buyer", "Economic buyer"
    TECHNICAL_EVALUATOR = "technical_evaluator", "Technical evaluator"
    LEGAL = "legal", "Legal"
    SECURITY = "security", "Security"
    PROCUREMENT = "procurement", "Procurement"
    END_USER = "end_user", "End user"
    EXECUTIVE_SPONSOR = "executive_sponsor", "Executive sponsor"
    ACCOUNT_EXECUTIVE = "account_executive", "Account executive"
    SALES_ENGINEER = "sales_engineer", "Sales engineer"
    CUSTOMER_SUCCESS = "customer_success", "Customer success"
    OTHER = "other", "Other"


class Influence(models.TextChoices):
    LOW = "low", "Low"
    MEDIUM = "medium", "Medium"
    HIGH = "high", "High"


class Scope(models.TextChoices):
    WHOLE_PLAN = "all", "Whole plan"
    TRACK = "track", "Summary + own track"


# What a person's details are, as the page's form and the API edit them.
PERSON_FIELDS = (
    "name",
    "email",
    "title",
    "side",
    "role",
    "influence",
    "approval_authority",
    "track",
    "scope",
)


class StakeholderQuerySet(RoomScopedQuerySet):
    def seen_by(self, person):
        """The people ``person`` may see (on their page, PDF, calendar invites): everyone
        for the seller side and whole-plan buyers; a summary + own track buyer sees the
        seller side and themselves, no other buyer (``Stakeholder.sees``, in Python)."""
        if person.side == Side.SELLER or person.scope == Scope.WHOLE_PLAN:
            return self
        return self.filter(models.Q(side=Side.SELLER) | models.Q(pk=person.pk))

    def with_engagement(self):
        """Each person with what the seller sees of their looking (``engagement``): first
        opened, last seen, visits and views, read in the same query."""
        views = ViewEvent.objects.filter(stakeholder=models.OuterRef("pk")).order_by()

        def count(rows):
            counted = rows.values("stakeholder").annotate(n=models.Count("pk")).values("n")
            return Coalesce(models.Subquery(counted), 0)

        return self.annotate(
            first_opened=models.Subquery(views.order_by("created_at").values("created_at")[:1]),
            last_seen=models.Subquery(views.order_by("-created_at").values("created_at")[:1]),
            visits=count(views.filter(starts_visit=True)),
            view_count=count(views),
        )

    def with_access(self):
        """Each person with ``has_link``: whether they hold a link that works now."""
        return self.annotate(
            has_link=models.Exists(
                AccessLink.objects.active().filter(stakeholder=models.OuterRef("pk"))
            )
        )


class Stakeholder(models.Model):
    """A person in the deal, on either side. Buyers have no account."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="stakeholders")
    side = models.CharField(max_length=8, choices=Side.choices, default=Side.BUYER)
    name = models.CharField(max_length=150)
    email = models.EmailField(blank=True)
    title = models.CharField("job title", max_length=150, blank=True)
    role = models.CharField(
        "role in the decision",
        max_length=32,
        choices=DecisionRole.choices,
        default=DecisionRole.OTHER,
    )
    influence = models.CharField(max_length=8, choices=Influence.choices, default=Influence.MEDIUM)
    approval_authority = models.BooleanField("approval authority", default=False)
    track = models.CharField(max_length=16, choices=Track.choices, default=Track.BUSINESS)
    scope = models.CharField("sees", max_length=8, choices=Scope.choices, default=Scope.WHOLE_PLAN)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    objects = StakeholderQuerySet.as_manager()

    class Meta:
        ordering = ["side", "name"]
        indexes = [models.Index(fields=["room", "side"])]

    def __str__(self):
        return f"{self.name} ({self.get_side_display()})"

    def write_problems(self, fields):
        """What the domain refuses in this person's values of ``fields`` (see
        ``rooms.models.Room.write_problems``)."""
        if "name" in fields:
            try:
                clean_person_name(self.name)
            except ValidationError as exc:
                return {"name": exc.messages[0]}
        return {}

    @property
    def engagement(self):
        """What ``with_engagement()`` read, or None if they never looked."""
        if getattr(self, "first_opened", None) is None:
            return None
        return {
            "first_opened": self.first_opened,
            "last_seen": self.last_seen,
            "visits": self.visits,
            "views": self.view_count,
        }

    def sees(self, other):
        """Whether this person may see ``other`` (the rule of ``seen_by``)."""
        if self.side == Side.SELLER or self.scope == Scope.WHOLE_PLAN:
            return True
        return other.side == Side.SELLER or other.pk == self.pk


# Choice lists the stakeholder rows render, wherever the section is drawn.
TEMPLATE_CHOICES = {
    "sh_side_choices": Side.choices,
    "sh_role_choices": DecisionRole.choices,
    "sh_influence_choices": Influence.choices,
    "sh_track_choices": Track.choices,
    "sh_scope_choices": Scope.choices,
}


class LinkState(models.TextChoices):
    ACTIVE = "active", "Active"
    EXPIRED = "expired", "Expired"
    REVOKED = "revoked", "Revoked"


class AccessLinkQuerySet(RoomScopedQuerySet):
    def active(self, now=None):
        """Links that open the room: not revoked, not expired (at ``now``, default the
        clock)."""
        return self.filter(revoked_at__isnull=True, expires_at__gt=now or timezone.now())


class AccessLink(models.Model):
    """A buyer stakeholder's personal link. Only the SHA-256 of its token is stored."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="links")
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = AccessLinkQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Link for {self.stakeholder_id} ({self.state})"

    @property
    def state(self):
        if self.revoked_at is not None:
            return LinkState.REVOKED
        if self.expires_at <= timezone.now():
            return LinkState.EXPIRED
        return LinkState.ACTIVE

    def get_state_display(self):
        return LinkState(self.state).label


class ViewEvent(models.Model):
    """A buyer looking at something. Sellers' own views are never recorded."""

    class Kind(models.TextChoices):
        OPENED_LINK = "opened_link", "opened their link"
        ROOM = "room", "viewed the room"
        TASK = "task", "read the thread of"

    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(Stakeholder, on_delete=models.CASCADE, related_name="views")
    link = models.ForeignKey(AccessLink, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(default=timezone.now)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    target_label = models.CharField(max_length=250, blank=True)
    # The first view after 30 minutes of quiet starts a new visit.
    starts_visit = models.BooleanField(default=False)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["stakeholder", "-created_at"])]

    def __str__(self):
        return f"{self.stakeholder_id} {self.kind} {self.target_label}"


class CalendarFeedQuerySet(RoomScopedQuerySet):
    def active(self):
        return self.filter(revoked_at__isnull=True)


class CalendarFeed(models.Model):
    """A stakeholder's calendar subscription (their due dates and milestone dates).

    Separate from their room link: it only reads dates, calendars poll it without a
    session, and it can be revoked on its own. Only the SHA-256 of its token is stored.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    org = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    room = models.ForeignKey(Room, on_delete=models.CASCADE, related_name="+")
    stakeholder = models.ForeignKey(
        Stakeholder, on_delete=models.CASCADE, related_name="calendar_feeds"
    )
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        "accounts.User", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = CalendarFeedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"Calendar feed for {self.stakeholder_id}"

    @property
    def is_active(self):
        return self.revoked_at is None
