"""The words the activity log is written in.

What people call each kind of row (``NOUNS``) and each field (``LABELS``), the kinds the
activity page filters by (``KINDS``), the columns never shown (``HIDDEN``), how a
logged value reads (dates, people, quoted text), and the pieces a sentence is made of
(``Em``, ``Line``). The sentences themselves are rooms/activity_text.py.
"""

import datetime
import re
from dataclasses import dataclass, field

from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

# What people call each kind of thing in a room (ActivityEvent.target_type).
NOUNS = {
    "task": "task",
    "milestone": "milestone",
    "decisioncriterion": "decision criterion",
    "risk": "risk",
    "stakeholder": "stakeholder",
    "document": "document",
    "plan": "plan",
    "room": "deal",
    "comment": "comment",
    "checkin": "check-in",
}

# The kinds the activity page filters by: key -> (label, target types).
KINDS = {
    "task": ("Tasks", ("task",)),
    "milestone": ("Milestones", ("milestone",)),
    "criterion": ("Decision criteria", ("decisioncriterion",)),
    "risk": ("Risks", ("risk",)),
    "person": ("People and links", ("stakeholder",)),
    "document": ("Documents", ("document",)),
    "plan": ("The plan", ("plan",)),
    "deal": ("The deal", ("room",)),
    "checkin": ("Check-ins", ("checkin",)),
}

# Field labels as people say them, by field name (the stored label is the model's
# verbose name at the time: "Due", "Sees", "Completion evidence").
LABELS = {
    "title": "title",
    "name": "name",
    "due_date": "due date",
    "target_date": "target date",
    "status": "status",
    "owner": "owner",
    "side": "side",
    "lead_side": "lead side",
    "track": "track",
    "completion_condition": "completion condition",
    "notes": "notes",
    "evidence": "completion evidence",
    "mitigation": "mitigation",
    "impact": "impact",
    "milestone": "milestone",
    "depends_on": "dependencies",
    "email": "email",
    "role": "role",
    "influence": "influence",
    "approval_authority": "approval authority",
    "scope": "what they see",
    "buyer_company": "buyer company",
    "value": "deal value",
    "currency": "currency",
    "stage": "stage",
    "target_close_date": "target close date",
    "close_reason": "buyer's reason for the date",
    "go_live_date": "go-live date",
    "goal": "goal",
    "timezone": "timezone",
    "review_weekday": "review day",
    "review_time": "review time",
    "review_duration_minutes": "review length (minutes)",
    "outcome": "outcome",
    "cs_owner": "Customer Success owner",
}
# The row's own name: said in the sentence, not repeated in its details.
NAME_FIELDS = frozenset({"title", "name"})
DATE_FIELDS = frozenset({"due_date", "target_date", "target_close_date", "go_live_date"})
TEXT_FIELDS = frozenset(
    {"notes", "evidence", "mitigation", "completion_condition", "goal", "close_reason"}
)
# Columns the log may hold that say nothing to a person (the overdue sweep's levels,
# dates remembered at agreement, versions, positions, counters).
HIDDEN = frozenset(
    {
        "id",
        "org",
        "room",
        "plan",
        "version",
        "order",
        "revision",
        "created_at",
        "updated_at",
        "overdue_level",
        "overdue_for",
        "agreed_due_date",
        "agreed_target_date",
        "completed_at",
    }
)
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
ISO_DATETIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})")
SIDE_SUFFIX = re.compile(r"^(.*) \((Buyer|Seller)\)$")
QUOTE_LIMIT = 160


class Em(str):
    """A part of a sentence shown emphasised (the thing the change was about)."""


@dataclass
class Line:
    """One entry of the log in words: ``html`` (safe) and ``text`` say the same."""

    actor: str
    actor_side: str
    parts: list
    details: list = field(default_factory=list)  # each a list of parts

    @property
    def html(self) -> SafeString:
        return _html([self._actor_html(), " ", *self.parts])

    @property
    def text(self) -> str:
        side = f" ({self.actor_side})" if self.actor_side else ""
        return f"{self.actor}{side} " + "".join(self.parts)

    @property
    def details_html(self):
        return [_html(parts) for parts in self.details]

    @property
    def details_text(self):
        return ["".join(parts) for parts in self.details]

    def _actor_html(self):
        if not self.actor_side:
            return mark_safe(conditional_escape(self.actor))
        return format_html(
            '{} <span class="activity-side">({})</span>', self.actor, self.actor_side
        )


def _html(parts):
    out = []
    for part in parts:
        if isinstance(part, Em):
            out.append(format_html("<em>{}</em>", part))
        else:
            out.append(conditional_escape(part))
    return mark_safe("".join(out))


# --- values ---------------------------------------------------------------------------


def short_date(value, *, this_year=None):
    """An ISO date (or date-time) as people write it: "3 Mar", "20 Dec 2027" outside
    ``this_year``, "3 Mar 14:05" with a time. Anything else is returned as it is."""
    value = str(value or "")
    this_year = this_year or datetime.date.today().year
    time = ""
    match = ISO_DATETIME.match(value)
    if match:
        value, time = match.group(1), f" {match.group(2)}"
    match = ISO_DATE.match(value)
    if not match:
        return value
    try:
        day = datetime.date(*(int(g) for g in match.groups()))
    except ValueError:
        return value
    year = "" if day.year == this_year else f" {day.year}"
    return f"{day.day} {day:%b}{year}{time}"


def _year(event):
    """The year dates are shown without: the year the change was made in."""
    at = getattr(event, "created_at", None)
    return at.year if at else datetime.date.today().year


def _value(name, value, year):
    value = str(value or "")
    if name in DATE_FIELDS or ISO_DATE.match(value) or ISO_DATETIME.match(value):
        return short_date(value, this_year=year)
    if name in ("owner", "cs_owner"):
        return person_label(value)[0]
    return value


def _quote(value):
    value = " ".join(str(value or "").split())
    if len(value) > QUOTE_LIMIT:
        value = value[: QUOTE_LIMIT - 1].rstrip() + "…"
    return f"“{value}”"


def person_label(label):
    """("Maria Lopez", "buyer") from a stakeholder's label "Maria Lopez (Buyer)"."""
    match = SIDE_SUFFIX.match(label or "")
    if match:
        return match.group(1), match.group(2).lower()
    return label or "", ""


def _label(name, change):
    if name in LABELS:
        return LABELS[name]
    return str((change or {}).get("label") or name.replace("_", " ")).lower()


def _shown(changes):
    """The changes a person may read, in the order they were logged."""
    return {
        name: change
        for name, change in (changes or {}).items()
        if name not in HIDDEN and isinstance(change, dict)
    }
