"""The dashboard's list: open rooms of the member's scope, filtered and sorted in SQL on
the signal columns Room carries, so the first page never reads tasks (one query for
the count, one for the rows, one for the blockers shown)."""

from dataclasses import dataclass
from functools import cached_property

from django import forms
from django.db.models import Case, F, IntegerField, Q, Value, When

from accounts.models import Membership
from plans.health import (
    BADGES,
    BAND_LABELS,
    BANDS,
    badge_filter,
    blocker_id,
    health_expression,
    signals_of,
)
from plans.models import Task
from plans.schedule import days_label
from rooms.models import Outcome, Room, Stage

from .rendering import row_html

PAGE_SIZE = 50


def scope_all_rooms(membership):
    """Rooms a member sees here, open or closed: the organisation's for managers and
    admins, their own for reps."""
    rooms = Room.objects.for_membership(membership)
    if not membership.sees_whole_org:
        rooms = rooms.filter(owner_id=membership.user_id)
    return rooms


def scope_rooms(membership):
    """The open rooms of the member's scope: the dashboard's rows."""
    return scope_all_rooms(membership).filter(outcome=Outcome.OPEN)


def _percent(done, total):
    return Case(
        When(**{f"{total}__gt": 0}, then=F(done) * 100 / F(total)),
        default=Value(None),
        output_field=IntegerField(),
    )


def _stage_rank():
    return Case(
        *[When(stage=value, then=Value(i)) for i, value in enumerate(Stage.values)],
        default=Value(99),
        output_field=IntegerField(),
    )


# sort key -> (label, expression or field name); "-key" sorts descending.
COLUMNS = {
    "deal": "Deal",
    "health": "Health",
    "owner": "Owner",
    "value": "Value",
    "stage": "Stage",
    "close": "Target close",
    "projected": "Projected close",
    "slip": "Slip",
    "buyer_done": "Buyer tasks",
    "seller_done": "Seller tasks",
    "overdue": "Overdue",
    "blocker": "Current blocker",
    "activity": "Last buyer activity",
    "check_in": "Last check-in",
}
DEFAULT_SORT = "health"

# The slip filter: ``slip=N`` keeps the rooms whose projected close lies more than N
# days past their target close (Room.slip_days > N).
SLIP_CHOICES = [
    ("", "Any schedule"),
    (0, "Late (any slip)"),
    (7, "Over 7 days late"),
    (14, "Over 14 days late"),
    (30, "Over 30 days late"),
]


def _order(key, descending, today):
    nulls = {"nulls_last": True}
    exprs = {
        "deal": F("name"),
        "owner": F("owner__name"),
        "value": F("value"),
        "stage": _stage_rank(),
        "close": F("target_close_date"),
        "projected": F("projected_close_date"),
        # Rooms without a projection (no plan, no dated milestone) come last either way.
        "slip": Case(
            When(projected_close_date__isnull=True, then=Value(None)),
            default=F("slip_days"),
            output_field=IntegerField(),
        ),
        "buyer_done": F("buyer_pct"),
        "seller_done": F("seller_pct"),
        "overdue": F("alerted_count") * 10000 + F("flagged_count"),
        "blocker": Case(
            When(next_due_date__lt=today, then=F("next_due_date")),
            default=F("blocked_due_date"),
        ),
        "activity": F("last_buyer_activity_at"),
        "check_in": F("last_check_in_at"),
        "health": F("health"),
    }
    expr = exprs[key]
    if key in ("activity", "check_in"):  # never counts as the oldest
        return expr.desc(nulls_last=True) if descending else expr.asc(nulls_first=True)
    return expr.desc(**nulls) if descending else expr.asc(**nulls)


class DashboardFilters(forms.Form):
    """The dashboard's state, all of it in the URL's query string."""

    q = forms.CharField(required=False, max_length=100, label="Search")
    owner = forms.TypedChoiceField(required=False, coerce=int, empty_value=None, label="Owner")
    stage = forms.ChoiceField(required=False, choices=[("", "Any stage"), *Stage.choices])
    min_value = forms.DecimalField(required=False, min_value=0, max_digits=14, label="Value from")
    max_value = forms.DecimalField(required=False, min_value=0, max_digits=14, label="Value to")
    health = forms.ChoiceField(
        required=False, choices=[("", "Any health"), *BAND_LABELS.items()], label="Health"
    )
    badge = forms.ChoiceField(
        required=False, choices=[("", "Any badge"), *BADGES.items()], label="Badge"
    )
    slip = forms.TypedChoiceField(
        required=False, coerce=int, empty_value=None, choices=SLIP_CHOICES, label="Slip"
    )
    sort = forms.CharField(required=False, max_length=20, label="Sort")

    def __init__(self, data, *, owners):
        super().__init__(data)
        self.fields["owner"].choices = [("", "Everyone")] + [(u.pk, u.display_name) for u in owners]

    def clean_sort(self):
        sort = self.cleaned_data.get("sort") or DEFAULT_SORT
        if sort.lstrip("-") not in COLUMNS:
            raise forms.ValidationError("Unknown sort column.")
        return sort

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("min_value"), cleaned.get("max_value")
        if low is not None and high is not None and low > high:
            self.add_error("max_value", "“Value to” is below “Value from”.")
        return cleaned

    def state(self):
        """The valid part of the request, as used (invalid fields are left out)."""
        if not self.is_bound:
            return {"sort": DEFAULT_SORT}
        self.is_valid()
        state = {}
        for name in self.fields:
            if name in self.errors:
                continue
            value = self.cleaned_data.get(name)
            if value not in (None, ""):
                state[name] = value
        state.setdefault("sort", DEFAULT_SORT)
        return state


def owners_for(membership):
    """Members whose rooms a manager can filter on (one query); nobody for a rep."""
    if not membership.sees_whole_org:
        return []
    members = Membership.objects.filter(org_id=membership.org_id).select_related("user")
    return sorted((m.user for m in members), key=lambda u: u.display_name.lower())


def _band_filter(band):
    """A health band as a filter on the annotated score. The score lies in 0-100 (the
    parts add up to 100 at most, the slip penalty is floored at 0), so a band reaching
    either end needs one comparison, and PostgreSQL evaluates the score once per room
    instead of twice (it reads ``BETWEEN`` as two comparisons)."""
    low, high = BANDS[band]
    if low <= 0:
        return Q(health__lte=high)
    if high >= 100:
        return Q(health__gte=low)
    return Q(health__range=(low, high))


def dashboard_rooms(membership, state, *, now, today):
    """The filtered, sorted rooms (a queryset, nothing read yet)."""
    rooms = scope_rooms(membership).select_related("owner")
    rooms = rooms.annotate(
        health=health_expression(now),
        buyer_pct=_percent("buyer_tasks_done", "buyer_tasks_total"),
        seller_pct=_percent("seller_tasks_done", "seller_tasks_total"),
    )
    if q := state.get("q", "").strip():
        rooms = rooms.filter(Q(name__icontains=q) | Q(buyer_company__icontains=q))
    if (owner := state.get("owner")) is not None and membership.sees_whole_org:
        rooms = rooms.filter(owner_id=owner)
    if stage := state.get("stage"):
        rooms = rooms.filter(stage=stage)
    if (low := state.get("min_value")) is not None:
        rooms = rooms.filter(value__gte=low)
    if (high := state.get("max_value")) is not None:
        rooms = rooms.filter(value__lte=high)
    if band := state.get("health"):
        rooms = rooms.filter(_band_filter(band))
    if badge := state.get("badge"):
        rooms = rooms.filter(badge_filter(badge, now))
    if (slip := state.get("slip")) is not None:
        rooms = rooms.filter(slip_days__gt=slip)
    sort = state.get("sort", DEFAULT_SORT)
    key, descending = sort.lstrip("-"), sort.startswith("-")
    return rooms.order_by(_order(key, descending, today), "name", "pk")


def ago(days):
    """'today', '1 day ago', '12 days ago'; None when it never happened."""
    if days is None:
        return None
    if days == 0:
        return "today"
    return f"{days} day{'s' if days != 1 else ''} ago"


def slip_label(days):
    """How a room's stored slip reads (negative only when everything was done early)."""
    if days > 0:
        return f"{days_label(days)} late"
    if days < 0:
        return f"{days_label(-days)} early"
    return "on time"


@dataclass
class Row:
    """One room as the table shows it; labels are worked out here, not in the template,
    so 50 rows render quickly."""

    room: Room
    signals: object
    now: object = None

    @property
    def blocker(self):
        return self.signals.current_blocker

    @cached_property
    def buyer(self):
        return _progress(self.signals.buyer_tasks_done, self.signals.buyer_tasks_total)

    @cached_property
    def seller(self):
        return _progress(self.signals.seller_tasks_done, self.signals.seller_tasks_total)

    @cached_property
    def slip(self):
        """'5 days late', 'on time', '3 days early' (everything done before the target);
        None without a projection (no plan, or no dated milestone)."""
        if self.room.projected_close_date is None:
            return None
        return slip_label(self.room.slip_days)

    @cached_property
    def activity(self):
        return ago(self.signals.days_since_buyer_interaction)

    @cached_property
    def check_in(self):
        """'today', '9 days ago'; None when the room never had a check-in."""
        at = self.signals.last_check_in_at
        return None if at is None else ago(max((self.now - at).days, 0))

    @property
    def html(self):
        return row_html(self)

    @cached_property
    def blocker_detail(self):
        task = self.blocker
        if task is None:
            return ""
        parts = [
            f"{task.owner.name} ({task.owner.get_side_display()})" if task.owner else "no owner"
        ]
        if task.due_date:
            parts.append(f"due {task.due_date:%b} {task.due_date.day}")
        return " · ".join(parts)


def _progress(done, total):
    return {"done": done, "total": total, "pct": (100 * done // total) if total else 0}


def rows_of(rooms, *, now):
    """Rows for rooms read from ``dashboard_rooms``: their signals, with the blockers
    (and their owners) read in one query for all of them."""
    rooms = list(rooms)
    wanted = {room.pk: blocker_id(room, now) for room in rooms}
    ids = [pk for pk in wanted.values() if pk is not None]
    tasks = {}
    if ids:
        tasks = {
            t.pk: t
            for t in Task.objects.filter(
                pk__in=ids, org_id__in={r.org_id for r in rooms}
            ).select_related("owner")
        }
    return [
        Row(
            room=room,
            signals=signals_of(room, blocker=tasks.get(wanted[room.pk]), now=now),
            now=now,
        )
        for room in rooms
    ]
