"""A room's MAP signals and its health score (0-100), read from the columns the
services keep on Room (see docs/DASHBOARD.md for the formula and its weights).

The score is computed when it is read, never stored: two of its parts depend on the
clock (how long ago the buyer was last active; whether completion has been flat for
21 days), so a stored score would go stale overnight. ``health_expression`` is the
same formula as SQL, for lists that sort and filter on it; tests hold the two equal.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.db.models import (
    Case,
    ExpressionWrapper,
    F,
    IntegerField,
    Q,
    Value,
    When,
)
from django.db.models.functions import Greatest, Least
from django.utils import timezone

from rooms.models import Room, local_today

from .models import Task

# Points per signal; they add up to 100.
W_MAP = 10  # the room has a mutual action plan
W_AGREED = 10  # the buyer agreed to it
W_CO_CREATED = 15  # a buyer edited, commented or agreed at least once
W_APPROVER = 15  # an approver (approval authority or economic buyer) opened the room
W_RECENT = 15  # a buyer looked or acted in the last 7 days ...
W_RECENT_SOME = 8  # ... or in the last 14 days
W_PROGRESS = 15  # the number of done tasks moved in the last 21 days (not a zombie)
W_CONDITIONS = 10  # every milestone has a verifiable completion condition
W_ON_TIME = 10  # no task 3+ days overdue ...
W_ON_TIME_FLAGGED = 5  # ... or some 3+ but none 7+ days overdue
assert (
    W_MAP
    + W_AGREED
    + W_CO_CREATED
    + W_APPROVER
    + W_RECENT
    + W_PROGRESS
    + (W_CONDITIONS + W_ON_TIME)
    == 100
)
# A penalty, taken off the sum: one point per day the projected close lies past the
# target close (Room.slip_days, kept by plans.services.plan_changed), at most 20. The
# score never goes below 0.
W_SLIP_PER_DAY = 1
W_SLIP_MAX = 20

RECENT_DAYS = 7
RECENT_SOME_DAYS = 14
ZOMBIE_DAYS = 21
SLIPPING_DAYS = 7  # the "slipping" badge: projected close more than 7 days past target
# A room with a weekly review slot that has had no check-in (or none since its plan
# started) for two review slots also shows the "zombie" badge.
CHECK_IN_MISSED_DAYS = 14

# Health bands: at least 70 is healthy, under 40 at risk, in between worth watching.
BANDS = {"healthy": (70, 100), "watch": (40, 69), "at_risk": (0, 39)}
BAND_LABELS = {"healthy": "Healthy", "watch": "Watch", "at_risk": "At risk"}

# The failure patterns, as the dashboard badges them.
BADGES = {
    "seller_only": "Seller-only plan",
    "vague": "Vague completion",
    "approver_dark": "Approver dark",
    "zombie": "Zombie",
    "overdue": "Overdue",
    "slipping": "Slipping",
}
BADGE_HELP = {
    "seller_only": "No buyer has ever edited, commented on or agreed to the plan",
    "vague": "Milestones without a verifiable completion condition",
    "approver_dark": "Nobody with approval authority (or the economic buyer) has opened the room",
    "zombie": (
        f"Number of done tasks unchanged for {ZOMBIE_DAYS}+ days, or no check-in "
        "for two weekly review slots"
    ),
    "overdue": "Tasks 3+ days overdue (flagged) or 7+ days (alerted)",
    "slipping": f"Projected close more than {SLIPPING_DAYS} days past the target close",
}

# What a read of the signals needs from the room row.
SIGNAL_FIELDS = (
    "plan_started_at",
    "plan_agreed_at",
    "buyer_tasks_total",
    "buyer_tasks_done",
    "seller_tasks_total",
    "seller_tasks_done",
    "buyer_milestones_total",
    "buyer_milestones_done",
    "vague_milestones",
    "last_milestone_completed_at",
    "completion_changed_at",
    "next_due_task_id",
    "next_due_date",
    "blocked_task_id",
    "blocked_due_date",
    "last_buyer_activity_at",
    "last_buyer_contribution_at",
    "approver_count",
    "approver_opened_at",
    "flagged_count",
    "alerted_count",
    "projected_close_date",
    "slip_days",
    "last_check_in_at",
    "review_weekday",
    "review_time",
)


@dataclass(frozen=True)
class RoomSignals:
    has_map: bool
    plan_agreed_at: datetime | None
    last_buyer_interaction_at: datetime | None
    days_since_buyer_interaction: int | None
    last_buyer_contribution_at: datetime | None
    buyer_milestones_completed: int
    buyer_milestones_total: int
    buyer_tasks_done: int
    buyer_tasks_total: int
    seller_tasks_done: int
    seller_tasks_total: int
    current_blocker: Task | None
    days_since_last_milestone_completion: int | None
    days_since_completion_changed: int | None
    approver_count: int
    approver_opened_at: datetime | None
    vague_milestones: int
    flagged_count: int
    alerted_count: int
    projected_close_date: date | None
    slip_days: int
    last_check_in_at: datetime | None
    health_score: int
    contributions: list
    badges: tuple

    @property
    def health_band(self):
        return band_of(self.health_score)

    @property
    def health_band_label(self):
        return BAND_LABELS[self.health_band]

    @property
    def badge_items(self):
        return [(key, BADGES[key], BADGE_HELP[key]) for key in self.badges]

    @property
    def health_explained(self):
        return explain(self.contributions, self.health_score)


def blocker_id(room, now=None):
    """The current blocker: the earliest open task if it is past due in the room's own
    timezone at ``now`` (it is then the earliest overdue task), otherwise the earliest
    blocked task."""
    today = local_today(room.timezone, now)
    if room.next_due_date is not None and room.next_due_date < today:
        return room.next_due_task_id
    return room.blocked_task_id


def room_signals(room, *, now=None, tasks=None):
    """The MAP signals of one room, read fresh (2 queries: the room's signal columns, and
    the blocker task with its owner).

    A page that has just read the room and all its tasks (with owners) passes ``tasks``:
    the room's columns and the blocker then come from what it holds (no query)."""
    if tasks is None:
        fresh = Room.objects.only("org_id", "timezone", *SIGNAL_FIELDS).get(
            pk=room.pk, org_id=room.org_id
        )
    else:
        fresh = room
    task_id = blocker_id(fresh, now)
    blocker = None
    if task_id is not None:
        blocker = next((t for t in tasks or () if t.pk == task_id), None)
        if blocker is None:
            blocker = Task.objects.for_room(room).select_related("owner").filter(pk=task_id).first()
    return signals_of(fresh, blocker=blocker, now=now)


def signals_of(room, *, blocker=None, now=None):
    """Signals from a room's columns (no queries)."""
    now = now or timezone.now()
    score, contributions = health(room, now=now)
    return RoomSignals(
        has_map=bool(room.has_plan),
        plan_agreed_at=room.plan_agreed_at,
        last_buyer_interaction_at=room.last_buyer_activity_at,
        days_since_buyer_interaction=_days(now, room.last_buyer_activity_at),
        last_buyer_contribution_at=room.last_buyer_contribution_at,
        buyer_milestones_completed=room.buyer_milestones_done,
        buyer_milestones_total=room.buyer_milestones_total,
        buyer_tasks_done=room.buyer_tasks_done,
        buyer_tasks_total=room.buyer_tasks_total,
        seller_tasks_done=room.seller_tasks_done,
        seller_tasks_total=room.seller_tasks_total,
        current_blocker=blocker,
        days_since_last_milestone_completion=_days(now, room.last_milestone_completed_at),
        days_since_completion_changed=(
            _days(now, room.completion_changed_at) if room.has_plan else None
        ),
        approver_count=room.approver_count,
        approver_opened_at=room.approver_opened_at,
        vague_milestones=room.vague_milestones,
        flagged_count=room.flagged_count,
        alerted_count=room.alerted_count,
        projected_close_date=room.projected_close_date,
        slip_days=room.slip_days,
        last_check_in_at=room.last_check_in_at,
        health_score=score,
        contributions=contributions,
        badges=badges_of(room, now=now),
    )


def _days(now, then):
    return None if then is None else max((now - then).days, 0)


def is_zombie(room, now):
    return bool(
        room.has_plan
        and room.completion_changed_at is not None
        and room.completion_changed_at <= now - timedelta(days=ZOMBIE_DAYS)
    )


def missed_check_ins(room, now):
    """A room with a plan and a weekly review slot whose last check-in (or, with none,
    its plan's start) is two review slots or more ago."""
    if not room.has_plan or room.review_weekday is None or room.review_time is None:
        return False
    since = room.last_check_in_at or room.plan_started_at
    return since <= now - timedelta(days=CHECK_IN_MISSED_DAYS)


def badges_of(room, *, now):
    found = []
    if room.has_plan and room.last_buyer_contribution_at is None:
        found.append("seller_only")
    if room.vague_milestones:
        found.append("vague")
    if room.approver_opened_at is None:
        found.append("approver_dark")
    if is_zombie(room, now) or missed_check_ins(room, now):
        found.append("zombie")
    if room.flagged_count or room.alerted_count:
        found.append("overdue")
    if room.slip_days > SLIPPING_DAYS:
        found.append("slipping")
    return tuple(found)


def health(room, *, now):
    """(score, [(label, points), ...]) from a room's columns."""
    parts = []
    has_map = bool(room.has_plan)
    parts.append(("MAP exists", W_MAP) if has_map else ("No MAP yet", 0))
    if room.plan_agreed_at is not None:
        parts.append(("Buyer agreed to the plan", W_AGREED))
    else:
        parts.append(("Buyer has not agreed to the plan", 0))
    if room.last_buyer_contribution_at is not None:
        parts.append(("Buyer edited, commented or agreed", W_CO_CREATED))
    else:
        parts.append(("No buyer edit, comment or agreement", 0))
    if room.approver_opened_at is not None:
        parts.append(("An approver opened the room", W_APPROVER))
    elif room.approver_count:
        parts.append(("No approver has opened the room", 0))
    else:
        parts.append(("No approver named", 0))
    last = room.last_buyer_activity_at
    if last is None:
        parts.append(("Buyer never active", 0))
    elif last > now - timedelta(days=RECENT_DAYS):
        parts.append((f"Buyer active in the last {RECENT_DAYS} days", W_RECENT))
    elif last > now - timedelta(days=RECENT_SOME_DAYS):
        parts.append((f"Buyer last active {_days(now, last)} days ago", W_RECENT_SOME))
    else:
        parts.append((f"Buyer last active {_days(now, last)} days ago", 0))
    if not has_map:
        parts.append(("No plan, no progress", 0))
    elif is_zombie(room, now):
        days = _days(now, room.completion_changed_at)
        parts.append((f"Zombie: done tasks unchanged for {days} days", 0))
    else:
        parts.append((f"Progress in the last {ZOMBIE_DAYS} days", W_PROGRESS))
    if not has_map:
        parts.append(("No milestones to judge", 0))
    elif room.vague_milestones:
        n = room.vague_milestones
        parts.append((f"{n} milestone{'s' if n != 1 else ''} without a completion condition", 0))
    else:
        parts.append(("Every milestone has a completion condition", W_CONDITIONS))
    if room.alerted_count:
        parts.append((f"{room.alerted_count} task(s) 7+ days overdue", 0))
    elif room.flagged_count:
        parts.append((f"{room.flagged_count} task(s) 3+ days overdue", W_ON_TIME_FLAGGED))
    else:
        parts.append(("Nothing overdue", W_ON_TIME))
    if penalty := slip_penalty(room.slip_days):
        days = room.slip_days
        parts.append(
            (f"Projected close {days} day{'s' if days != 1 else ''} past target", -penalty)
        )
    return max(0, sum(points for _, points in parts)), parts


def slip_penalty(slip_days):
    """Points taken off for a projected close ``slip_days`` past the target (0 when on
    time or early)."""
    return min(max(slip_days, 0) * W_SLIP_PER_DAY, W_SLIP_MAX)


def _signed(points):
    if points > 0:
        return f"+{points:>2}"
    if points < 0:
        return f"-{-points:>2}"
    return "± 0"


def explain(contributions, score):
    """One line per signal, for the score's tooltip."""
    lines = [f"{_signed(p)}  {label}" for label, p in contributions]
    return f"Health {score}/100\n" + "\n".join(lines)


def band_of(score):
    for band, (low, high) in BANDS.items():
        if low <= score <= high:
            return band
    return "at_risk"


# --- the same formula as SQL ---------------------------------------------------------


def _points(condition, points):
    return Case(When(condition, then=Value(points)), default=Value(0), output_field=IntegerField())


def health_expression(now):
    """The health score as an SQL expression over a room's columns."""
    has_plan = Q(plan_started_at__isnull=False)
    recent = now - timedelta(days=RECENT_DAYS)
    recent_some = now - timedelta(days=RECENT_SOME_DAYS)
    zombie_before = now - timedelta(days=ZOMBIE_DAYS)
    total = (
        _points(has_plan, W_MAP)
        + _points(Q(plan_agreed_at__isnull=False), W_AGREED)
        + _points(Q(last_buyer_contribution_at__isnull=False), W_CO_CREATED)
        + _points(Q(approver_opened_at__isnull=False), W_APPROVER)
        + Case(
            When(last_buyer_activity_at__gt=recent, then=Value(W_RECENT)),
            When(last_buyer_activity_at__gt=recent_some, then=Value(W_RECENT_SOME)),
            default=Value(0),
            output_field=IntegerField(),
        )
        + _points(has_plan & ~Q(completion_changed_at__lte=zombie_before), W_PROGRESS)
        + _points(has_plan & Q(vague_milestones=0), W_CONDITIONS)
        + Case(
            When(alerted_count__gt=0, then=Value(0)),
            When(flagged_count__gt=0, then=Value(W_ON_TIME_FLAGGED)),
            default=Value(W_ON_TIME),
            output_field=IntegerField(),
        )
        - Case(
            When(
                slip_days__gt=0,
                then=Least(F("slip_days") * W_SLIP_PER_DAY, Value(W_SLIP_MAX)),
            ),
            default=Value(0),
            output_field=IntegerField(),
        )
    )
    return ExpressionWrapper(Greatest(total, Value(0)), output_field=IntegerField())


def _missed_check_ins_filter(now):
    """``missed_check_ins`` as a filter (rooms with a plan)."""
    before = now - timedelta(days=CHECK_IN_MISSED_DAYS)
    has_slot = Q(review_weekday__isnull=False, review_time__isnull=False)
    return has_slot & (
        Q(last_check_in_at__lte=before)
        | Q(last_check_in_at__isnull=True, plan_started_at__lte=before)
    )


def badge_filter(badge, now):
    """The rooms showing a badge, as a filter (same definitions as ``badges_of``)."""
    has_plan = Q(plan_started_at__isnull=False)
    return {
        "seller_only": has_plan & Q(last_buyer_contribution_at__isnull=True),
        "vague": Q(vague_milestones__gt=0),
        "approver_dark": Q(approver_opened_at__isnull=True),
        "zombie": has_plan
        & (
            Q(completion_changed_at__lte=now - timedelta(days=ZOMBIE_DAYS))
            | _missed_check_ins_filter(now)
        ),
        "overdue": Q(flagged_count__gt=0) | Q(alerted_count__gt=0),
        "slipping": Q(slip_days__gt=SLIPPING_DAYS),
    }[badge]
