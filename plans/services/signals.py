"""What the plan's writes recount on the room: overdue counts, the MAP signals and the
projected schedule (``plan_changed``, the one hook every write passes through)."""

import contextlib
import contextvars

from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from rooms.models import Outcome, Room, local_today
from stakeholders.models import Side

from .. import schedule, selectors
from ..models import (
    Milestone,
    MilestoneStatus,
    OverdueLevel,
    Plan,
    Task,
    TaskStatus,
)


def room_overdue_counts():
    """``flagged_count`` and ``alerted_count`` of a room as expressions over its open
    tasks flagged for their current due date (for ``Room.objects…update(**…)``)."""
    flagged = Task.objects.filter(room=OuterRef("pk")).flagged().values("room")

    def count(queryset):
        return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1]), 0)

    return {
        "flagged_count": count(flagged.filter(overdue_level__lt=OverdueLevel.ALERTED)),
        "alerted_count": count(flagged.filter(overdue_level__gte=OverdueLevel.ALERTED)),
    }


def room_overdue_recount(room_ids):
    """Recount each room's open flagged and alerted tasks (one UPDATE)."""
    Room.objects.filter(pk__in=list(room_ids)).update(**room_overdue_counts())


# Task fields the room's plan signals and schedule depend on (see plan_changed).
PLAN_SIGNAL_FIELDS = frozenset({"status", "due_date", "owner", "side", "milestone"})


# Milestone fields the same depend on (its status follows its tasks: milestone_refresh).
SCHEDULE_MILESTONE_FIELDS = frozenset({"completion_condition", "lead_side", "target_date"})


# Rooms whose recount waits for the end of a batch of writes (plan_recounts_deferred).
_deferred_rooms = contextvars.ContextVar("plan_recounts_deferred", default=None)


def plan_changed(room_ids):
    """The one hook every write of a plan passes through (services, admin, the sweep,
    re-plan, people changing side): recount the rooms' plan signals and their schedule
    (projected close, slip). Call it after the write, outside or inside its
    transaction. Inside ``plan_recounts_deferred`` the rooms are noted and recounted
    once each when it ends."""
    room_ids = list(room_ids)
    pending = _deferred_rooms.get()
    if pending is not None:
        pending.update(room_ids)
        return
    room_plan_recount(room_ids)
    room_schedule_refresh(room_ids)


@contextlib.contextmanager
def plan_recounts_deferred():
    """For a writer of many rows at once (the demo seed): every write still goes
    through its service, but the rooms' recount runs once per room at the end instead
    of after each write. Nothing inside may read the recounted columns."""
    pending = set()
    token = _deferred_rooms.set(pending)
    try:
        yield
    finally:
        _deferred_rooms.reset(token)
        if pending:
            plan_changed(pending)


def room_schedule_refresh(room_ids, today=None):
    """Project each room's plan (plans.schedule) and keep the result on the room:
    ``projected_close_date``, ``slip_days`` and the day it was made (``schedule_on``).
    Three queries for the rooms' rows, whatever their number, then one UPDATE per room
    whose figures moved. ``today`` overrides every room's date (tests, operators)."""
    rooms = {r.pk: r for r in Room.objects.filter(pk__in=list(room_ids))}
    if not rooms:
        return 0
    milestones, tasks = {}, {}
    for m in Milestone.objects.filter(room_id__in=rooms).only(
        "id",
        "room_id",
        "title",
        "target_date",
        "status",
        "completed_at",
        "order",
        "completion_condition",
        "lead_side",
        "created_at",
    ):
        milestones.setdefault(m.room_id, []).append(m)
    for t in (
        Task.objects.filter(room_id__in=rooms)
        .select_related("owner")
        .only(
            "id",
            "room_id",
            "milestone_id",
            "title",
            "due_date",
            "status",
            "completed_at",
            "order",
            "owner_id",
            "side",
            "created_at",
        )
    ):
        tasks.setdefault(t.room_id, []).append(t)
    deps = selectors.dependencies_of([m.pk for ms in milestones.values() for m in ms])
    changed = 0
    for pk, room in rooms.items():
        day = today or room.today()
        items = selectors.schedule_items(room, milestones.get(pk, []), tasks.get(pk, []), deps)
        result = schedule.project(items, today=day, target_close=room.target_close_date)
        fields = {
            "projected_close_date": result.projected_close,
            "slip_days": result.slip_days,
            "schedule_on": day,
        }
        if any(getattr(room, k) != v for k, v in fields.items()):
            Room.objects.filter(pk=pk).update(**fields)
            changed += 1
    return changed


def room_schedule_refresh_due(now=None, today=None, batch_size=500):
    """Refresh the schedule of every open room whose date has moved on since its last
    projection (an open item past its date now finishes today at the earliest); the
    sweep calls this. ``today`` overrides every room's date. Returns how many rooms
    were projected."""
    done = 0
    for tz_name in (
        Room.objects.filter(outcome=Outcome.OPEN)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    ):
        day = today or local_today(tz_name, now)
        stale = Room.objects.filter(
            outcome=Outcome.OPEN, timezone=tz_name, plan_started_at__isnull=False
        ).filter(Q(schedule_on__isnull=True) | Q(schedule_on__lt=day))
        while ids := list(stale.values_list("pk", flat=True)[:batch_size]):
            room_schedule_refresh(ids, today=day)
            done += len(ids)
    return done


def _count(queryset):
    return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1]), 0)


def room_plan_recount(room_ids):
    """Recount the plan signals each room carries for the dashboard (one UPDATE): the
    plan's start and agreement, buyer- and seller-side tasks done/total (a task's side
    is its owner's), buyer-led milestones done/total, milestones without a completion
    condition, the last milestone completion, the earliest open and earliest blocked
    task, and when the number of done tasks last changed. Call it after any write
    that can move them."""
    tasks = Task.objects.filter(room=OuterRef("pk")).values("room")
    buyer = Q(owner__side=Side.BUYER) | Q(owner__isnull=True, side=Side.BUYER)
    seller = Q(owner__side=Side.SELLER) | Q(owner__isnull=True, side=Side.SELLER)
    done = Q(status=TaskStatus.DONE)
    milestones = Milestone.objects.filter(room=OuterRef("pk")).values("room")
    open_tasks = Task.objects.filter(room=OuterRef("pk")).exclude(status=TaskStatus.DONE)
    next_due = open_tasks.filter(due_date__isnull=False).order_by("due_date", "created_at", "pk")
    blocked = open_tasks.filter(status=TaskStatus.BLOCKED).order_by(
        F("due_date").asc(nulls_last=True), "created_at", "pk"
    )
    done_now = _count(tasks.filter(done))
    now = timezone.now()
    plan = Plan.objects.filter(room=OuterRef("pk"))
    Room.objects.filter(pk__in=list(room_ids)).update(
        plan_started_at=Subquery(plan.values("created_at")[:1]),
        plan_agreed_at=Subquery(plan.values("agreed_at")[:1]),
        buyer_tasks_total=_count(tasks.filter(buyer)),
        buyer_tasks_done=_count(tasks.filter(buyer & done)),
        seller_tasks_total=_count(tasks.filter(seller)),
        seller_tasks_done=_count(tasks.filter(seller & done)),
        buyer_milestones_total=_count(milestones.filter(lead_side=Side.BUYER)),
        buyer_milestones_done=_count(
            milestones.filter(lead_side=Side.BUYER, status=MilestoneStatus.DONE)
        ),
        vague_milestones=_count(milestones.filter(completion_condition="")),
        last_milestone_completed_at=Subquery(
            milestones.filter(status=MilestoneStatus.DONE)
            .annotate(last=Max("completed_at"))
            .values("last")[:1]
        ),
        next_due_task_id=Subquery(next_due.values("pk")[:1]),
        next_due_date=Subquery(next_due.values("due_date")[:1]),
        blocked_task_id=Subquery(blocked.values("pk")[:1]),
        blocked_due_date=Subquery(blocked.values("due_date")[:1]),
        # Reads the old counts (SQL evaluates every right-hand side before assigning).
        completion_changed_at=Case(
            When(~Exists(plan), then=Value(None)),
            When(completion_changed_at__isnull=True, then=Value(now)),
            When(
                Exact(F("buyer_tasks_done") + F("seller_tasks_done"), done_now),
                then=F("completion_changed_at"),
            ),
            default=Value(now),
        ),
    )
