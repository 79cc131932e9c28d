"""The numbers that show whether MAPs work, weekly over the last 12 weeks.

Definitions (docs/DASHBOARD.md says the same in prose). A point is taken at the end
of each of the last 11 weeks (Monday 00:00 UTC) and now, 12 points in all. For a
point T:

- MAP coverage: of the rooms open at T (created by T, not closed by T), the share
  whose plan the buyer had agreed to by T.
- Task completion rate: of the tasks in rooms open at T that existed and were due by
  T, the share done by T.
- Win rate with / without buyer engagement: of the rooms closed (won or lost) in the
  12 weeks up to T, won / (won + lost), separately for rooms where a buyer edited,
  commented or agreed at least once ("engaged") and the others.
- Median days from plan to close: over the rooms closed in the 12 weeks up to T that
  had a plan, the median of (closed - plan created) in days.

Three queries (rooms, tasks, closed rooms), kept in the shared cache per scope and
refreshed in the background when older than 5 minutes: the figures move by the week,
and reading them costs a scan of the scope's tasks.
"""

import logging
import statistics
from datetime import UTC, timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from plans.models import Task
from rooms.models import Outcome, Room

log = logging.getLogger(__name__)

WEEKS = 12
WINDOW = timedelta(weeks=12)
FRESH_SECONDS = 300  # served as is
KEEP_SECONDS = 6 * 3600  # served while a worker recomputes it
REFRESH_LOCK_SECONDS = 120


def week_points(now):
    """The 12 instants the charts plot: the last 11 week ends and now."""
    monday = (now.astimezone(UTC) - timedelta(days=now.astimezone(UTC).weekday())).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return [monday - timedelta(weeks=WEEKS - 2 - i) for i in range(WEEKS - 1)] + [now]


def _open_at(t, prefix=""):
    return Q(**{f"{prefix}created_at__lte": t}) & (
        Q(**{f"{prefix}closed_at__isnull": True}) | Q(**{f"{prefix}closed_at__gt": t})
    )


def _ratio(part, whole):
    return None if not whole else round(100 * part / whole, 1)


def compute(rooms, *, now):
    """KPIs of a room queryset (the member's scope, open and closed)."""
    points = week_points(now)
    first = points[0]
    # Rooms that may be open at some point of the window (closed ones closed after it
    # started); the rest cannot count.
    alive = rooms.filter(Q(closed_at__isnull=True) | Q(closed_at__gt=first))
    aggregates = {}
    for i, t in enumerate(points):
        aggregates[f"open{i}"] = Count("pk", filter=_open_at(t))
        aggregates[f"agreed{i}"] = Count("pk", filter=_open_at(t) & Q(plan_agreed_at__lte=t))
    coverage_counts = alive.aggregate(**aggregates)

    # Only tasks already due can count at any point.
    tasks = Task.objects.filter(
        room__in=alive.values("pk"), created_at__lte=now, due_date__lte=now.date()
    )
    task_aggregates = {}
    for i, t in enumerate(points):
        due = _open_at(t, "room__") & Q(created_at__lte=t, due_date__lte=t.date())
        task_aggregates[f"due{i}"] = Count("pk", filter=due)
        task_aggregates[f"done{i}"] = Count("pk", filter=due & Q(completed_at__lte=t))
    task_counts = tasks.aggregate(**task_aggregates)

    closed = list(
        rooms.filter(
            outcome__in=[Outcome.WON, Outcome.LOST],
            closed_at__gt=first - WINDOW,
            closed_at__lte=now,
        ).values_list("closed_at", "outcome", "last_buyer_contribution_at", "plan_started_at")
    )

    series = {"coverage": [], "completion": [], "win_engaged": [], "win_other": [], "days": []}
    counts = {"engaged": [], "other": [], "closed": []}
    for i, t in enumerate(points):
        series["coverage"].append(
            _ratio(coverage_counts[f"agreed{i}"], coverage_counts[f"open{i}"])
        )
        series["completion"].append(_ratio(task_counts[f"done{i}"], task_counts[f"due{i}"]))
        window = [row for row in closed if t - WINDOW < row[0] <= t]
        engaged = [row for row in window if row[2] is not None]
        other = [row for row in window if row[2] is None]
        series["win_engaged"].append(_win_rate(engaged))
        series["win_other"].append(_win_rate(other))
        durations = [(row[0] - row[3]).total_seconds() / 86400 for row in window if row[3]]
        series["days"].append(round(statistics.median(durations), 1) if durations else None)
        counts["engaged"].append(len(engaged))
        counts["other"].append(len(other))
        counts["closed"].append(len(window))
    return {
        "points": points,
        "series": series,
        "counts": counts,
        "open_now": coverage_counts[f"open{WEEKS - 1}"],
        "agreed_now": coverage_counts[f"agreed{WEEKS - 1}"],
        "tasks_due_now": task_counts[f"due{WEEKS - 1}"],
        "tasks_done_now": task_counts[f"done{WEEKS - 1}"],
    }


def _win_rate(rows):
    won = sum(1 for row in rows if row[1] == Outcome.WON)
    return _ratio(won, len(rows))


def cache_key(org_id, owner_id=None):
    return f"dashboard:kpis:{org_id}:{owner_id or 'org'}"


def kpis_for(*, org_id, owner_id=None, now):
    """The KPIs of an organisation (or of one rep's rooms), through the shared cache.

    Stale-while-revalidate: a value younger than FRESH_SECONDS is served as it is; an
    older one is served too while a worker recomputes it (one refresh at a time per
    scope), so only a scope nobody looked at for KEEP_SECONDS pays the computation in
    the request."""
    key = cache_key(org_id, owner_id)
    found = cache.get(key)
    if found is not None:
        computed_at, value = found
        if (now - computed_at).total_seconds() > FRESH_SECONDS:
            _refresh_later(org_id, owner_id)
        return value
    return refresh(org_id=org_id, owner_id=owner_id, now=now)


def scope_of(org_id, owner_id=None):
    rooms = Room.objects.filter(org_id=org_id)
    return rooms.filter(owner_id=owner_id) if owner_id else rooms


def refresh(*, org_id, owner_id=None, now=None):
    """Compute a scope's KPIs now and keep them in the shared cache."""
    now = now or timezone.now()
    value = compute(scope_of(org_id, owner_id), now=now)
    cache.set(cache_key(org_id, owner_id), (now, value), KEEP_SECONDS)
    cache.delete(cache_key(org_id, owner_id) + ":refreshing")
    return value


def _refresh_later(org_id, owner_id):
    if not cache.add(cache_key(org_id, owner_id) + ":refreshing", 1, REFRESH_LOCK_SECONDS):
        return  # a refresh is already queued or running

    def enqueue():
        from .tasks import refresh_kpis

        try:
            refresh_kpis.delay(str(org_id), owner_id)
        except Exception:  # no broker: the stale value stays; retried once the lock expires
            log.exception("Could not queue a KPI refresh for %s", org_id)

    transaction.on_commit(enqueue)
