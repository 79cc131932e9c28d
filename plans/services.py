"""Writes to a room's plan. Each goes through rooms.services' versioned write path,
so it is tenant-checked (the caller's queryset), locked by ``version``, bumps the
room's revision and lands in the activity log."""

import contextlib
import contextvars
import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Case, Count, Exists, F, Max, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.db.models.lookups import Exact
from django.utils import timezone

from accounts.models import Membership
from mapsite.text import multi_line
from rooms.models import ActivityEvent, Outcome, Room, go_live_problem, local_today
from rooms.services import (
    OutcomeError,
    activity_record,
    room_touch,
    room_writable,
    versioned_create,
    versioned_delete,
    versioned_update,
)
from stakeholders.models import DecisionRole, Side, Stakeholder
from stakeholders.services import room_buyer_activity, stakeholder_create

from . import schedule, selectors
from .models import (
    Comment,
    DecisionCriterion,
    Milestone,
    MilestoneStatus,
    Plan,
    Risk,
    Task,
    TaskStatus,
)
from .templates_builtin import BUILTIN_TEMPLATES, ONBOARDING, layout, schedule_forward


class PlanError(Exception):
    """A plan operation that cannot be done, with a message for the person asking."""


# --- the plan -----------------------------------------------------------------------


def plan_start(*, actor, room, template_slug):
    """Start the room's plan, empty or from a built-in template laid out backwards
    from the target close date, never before today. Refused if the room already has a
    plan. The plan's ``layout`` (templates_builtin.Layout, None for an empty plan)
    says whether the template was compressed to fit and which milestones are
    squeezed."""
    if template_slug != "empty" and template_slug not in BUILTIN_TEMPLATES:
        raise PlanError(f"Unknown template “{template_slug}”.")
    with transaction.atomic():
        if Plan.objects.filter(room=room).exists():
            raise PlanError("This room already has a plan.")
        plan = Plan.objects.create(
            org_id=room.org_id,
            room=room,
            template="" if template_slug == "empty" else template_slug,
        )
        plan.layout = None
        if template_slug != "empty":
            plan.layout = _apply_template(plan, room, BUILTIN_TEMPLATES[template_slug])
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.APPLIED_TEMPLATE,
            target=plan,
            target_label=(
                BUILTIN_TEMPLATES[template_slug].name + " template"
                if template_slug != "empty"
                else "an empty plan"
            ),
        )
    plan_changed([room.pk])
    return plan


def _apply_template(plan, room, spec):
    """Create the template's milestones and tasks, laid out from the room's close date
    and never before today (templates_builtin.layout); returns the layout."""
    dates = layout(spec, room.target_close_date, room.today())
    milestones = []
    for index, (m, day) in enumerate(zip(spec.milestones, dates.milestones, strict=True)):
        milestones.append(
            Milestone(
                org_id=room.org_id,
                room=room,
                plan=plan,
                order=index,
                title=m.title,
                target_date=day,
                lead_side=m.lead_side,
                track=m.track,
                completion_condition=m.completion_condition,
            )
        )
    Milestone.objects.bulk_create(milestones)
    tasks = []
    through = []
    for index, (m, milestone) in enumerate(zip(spec.milestones, milestones, strict=True)):
        for dep in m.depends_on:
            through.append(
                Milestone.depends_on.through(
                    from_milestone_id=milestone.pk, to_milestone_id=milestones[dep].pk
                )
            )
        for t_index, t in enumerate(m.tasks):
            tasks.append(
                Task(
                    org_id=room.org_id,
                    room=room,
                    plan=plan,
                    milestone=milestone,
                    order=index * 100 + t_index,
                    title=t.title,
                    side=t.side,
                    due_date=dates.tasks[index][t_index],
                )
            )
    Milestone.depends_on.through.objects.bulk_create(through)
    Task.objects.bulk_create(tasks)
    return dates


def _next_order(queryset):
    return (queryset.aggregate(m=Max("order"))["m"] or 0) + 1


# --- milestones -----------------------------------------------------------------------


def milestone_create(*, actor, room, plan, title, **fields):
    milestone = Milestone(
        org_id=room.org_id,
        room=room,
        plan=plan,
        title=title,
        order=_next_order(Milestone.objects.for_room(room)),
        **fields,
    )
    milestone = versioned_create(actor=actor, room=room, instance=milestone)
    plan_changed([room.pk])
    return milestone


def milestone_update(*, actor, room, milestone_id, base_version, changes, depends_on=None):
    m2m = {}
    if depends_on is not None:
        ids = {m.pk for m in depends_on}
        _check_dependencies(room, milestone_id, ids)
        m2m["depends_on"] = ids
    milestone = versioned_update(
        actor=actor,
        room=room,
        queryset=Milestone.objects.for_room(room),
        pk=milestone_id,
        base_version=base_version,
        changes=changes,
        m2m=m2m,
    )
    if SCHEDULE_MILESTONE_FIELDS & set(changes) or m2m:
        plan_changed([room.pk])
    return milestone


def _check_dependencies(room, milestone_id, ids):
    if milestone_id in ids:
        raise ValidationError({"depends_on": "A milestone cannot depend on itself."})
    valid = set(Milestone.objects.for_room(room).filter(pk__in=ids).values_list("pk", flat=True))
    if valid != ids:
        raise ValidationError({"depends_on": "Pick milestones of this plan."})
    # No cycles: walk what the chosen milestones depend on, transitively.
    edges = {}
    for src, dst in Milestone.depends_on.through.objects.filter(
        from_milestone__room=room
    ).values_list("from_milestone_id", "to_milestone_id"):
        edges.setdefault(src, set()).add(dst)
    edges[milestone_id] = set(ids)
    seen, stack = set(), list(ids)
    while stack:
        current = stack.pop()
        if current == milestone_id:
            raise ValidationError({"depends_on": "That would make a circular dependency."})
        if current not in seen:
            seen.add(current)
            stack.extend(edges.get(current, ()))


def milestone_delete(*, actor, room, milestone_id):
    versioned_delete(
        actor=actor, room=room, queryset=Milestone.objects.for_room(room), pk=milestone_id
    )
    room_overdue_recount([room.pk])  # its tasks went with it
    plan_changed([room.pk])


def milestone_move(*, actor, room, milestone_id, direction):
    _move(
        actor=actor,
        room=room,
        queryset=Milestone.objects.for_room(room),
        pk=milestone_id,
        direction=direction,
    )


# --- tasks -----------------------------------------------------------------------------


def task_create(*, actor, room, milestone, title, owner=None, due_date=None, **fields):
    """Add a task to a milestone. The owner decides the side (else the one asked for,
    else the milestone's lead side); a task created done is stamped completed."""
    planned_side = fields.pop("side", None) or milestone.lead_side
    if fields.get("status") == TaskStatus.DONE and not fields.get("completed_at"):
        fields["completed_at"] = timezone.now()
    task = Task(
        org_id=room.org_id,
        room=room,
        plan_id=milestone.plan_id,
        milestone=milestone,
        title=title,
        owner=owner,
        side=owner.side if owner else planned_side,
        due_date=due_date if due_date is not None else milestone.target_date,
        order=_next_order(Task.objects.for_room(room).filter(milestone=milestone)),
        **fields,
    )
    task = versioned_create(actor=actor, room=room, instance=task)
    milestone_refresh(actor=actor, room=room, milestone_ids=[task.milestone_id])
    plan_changed([room.pk])
    return task


def task_update(*, actor, room, task_id, base_version, changes):
    """Change fields of a task. The owner decides the side; done stamps completed_at."""
    changes = dict(changes)
    if changes.get("owner") is not None:
        owner = changes["owner"]
        if not isinstance(owner, Stakeholder) or owner.room_id != room.pk:
            raise ValidationError({"owner": "Pick a person from this room."})
        changes["side"] = owner.side
    if "milestone" in changes and changes["milestone"].room_id != room.pk:
        raise ValidationError({"milestone": "Pick a milestone of this plan."})
    if "status" in changes:
        changes["completed_at"] = timezone.now() if changes["status"] == TaskStatus.DONE else None
    if "due_date" in changes:
        # A new date is a new promise: overdue flags start afresh for it.
        changes["overdue_level"] = 0
        changes["overdue_for"] = None
    queryset = Task.objects.for_room(room)
    recount = "status" in changes or "due_date" in changes
    milestones_before = set(queryset.filter(pk=task_id).values_list("milestone_id", flat=True))
    if "completed_at" in changes:
        # Re-saving "done" on a done task keeps its original completion time.
        current = queryset.filter(pk=task_id).values_list("status", flat=True).first()
        if current == changes.get("status"):
            del changes["completed_at"]
    # Not wrapped in a transaction of our own: a refused write must keep its
    # "conflict" entry in the log (versioned_update records it after rolling back).
    task = versioned_update(
        actor=actor,
        room=room,
        queryset=queryset,
        pk=task_id,
        base_version=base_version,
        changes=changes,
    )
    if recount:
        room_overdue_recount([room.pk])  # reads committed rows: the last one is right
    if "status" in changes or "milestone" in changes:
        milestone_refresh(
            actor=actor, room=room, milestone_ids=milestones_before | {task.milestone_id}
        )
    if PLAN_SIGNAL_FIELDS & set(changes):
        plan_changed([room.pk])
    return task


def task_delete(*, actor, room, task_id):
    queryset = Task.objects.for_room(room)
    milestone_ids = set(queryset.filter(pk=task_id).values_list("milestone_id", flat=True))
    versioned_delete(actor=actor, room=room, queryset=queryset, pk=task_id)
    room_overdue_recount([room.pk])
    milestone_refresh(actor=actor, room=room, milestone_ids=milestone_ids)
    plan_changed([room.pk])


def milestone_status_for(total, done, started):
    """A milestone is done once it has tasks and all are done; in progress once any
    task has moved; not started otherwise."""
    if total and done == total:
        return MilestoneStatus.DONE
    if done or started:
        return MilestoneStatus.IN_PROGRESS
    return MilestoneStatus.NOT_STARTED


def milestone_refresh(*, actor, room, milestone_ids):
    """Bring the status of these milestones in line with their tasks. A change is a
    conditional UPDATE from the status read (so concurrent refreshes log it once) and
    lands in the activity log: "completed" when the last task is done, "reopened"
    when a done milestone gets an open task again."""
    ids = [pk for pk in milestone_ids if pk is not None]
    if not ids:
        return
    counts = {
        row["milestone_id"]: row
        for row in Task.objects.for_room(room)
        .filter(milestone_id__in=ids)
        .values("milestone_id")
        .annotate(
            total=Count("pk"),
            done=Count("pk", filter=Q(status=TaskStatus.DONE)),
            started=Count("pk", filter=Q(status__in=[TaskStatus.IN_PROGRESS, TaskStatus.BLOCKED])),
        )
    }
    queryset = Milestone.objects.for_room(room)
    for milestone in queryset.filter(pk__in=ids):
        row = counts.get(milestone.pk, {"total": 0, "done": 0, "started": 0})
        status = milestone_status_for(row["total"], row["done"], row["started"])
        if status == milestone.status:
            continue
        now = timezone.now()
        completed_at = now if status == MilestoneStatus.DONE else None
        with transaction.atomic():
            if not queryset.filter(pk=milestone.pk, status=milestone.status).update(
                status=status,
                completed_at=completed_at,
                version=F("version") + 1,
                updated_at=now,
            ):
                continue  # someone else moved it first; theirs is logged
            if status == MilestoneStatus.DONE:
                verb = ActivityEvent.Verb.COMPLETED
            elif milestone.status == MilestoneStatus.DONE:
                verb = ActivityEvent.Verb.REOPENED
            else:
                verb = ActivityEvent.Verb.UPDATED
            room_touch(room.pk)
            activity_record(
                room=room,
                actor=actor,
                verb=verb,
                target=milestone,
                target_version=milestone.version + 1,
                changes={
                    "status": {
                        "label": "Status",
                        "from": milestone.get_status_display(),
                        "to": MilestoneStatus(status).label,
                    }
                },
            )


def room_overdue_counts():
    """``flagged_count`` and ``alerted_count`` of a room as expressions over its open
    tasks flagged for their current due date (for ``Room.objects…update(**…)``)."""
    flagged = (
        Task.objects.filter(room=OuterRef("pk"), overdue_level__gte=3, overdue_for=F("due_date"))
        .exclude(status=TaskStatus.DONE)
        .values("room")
    )

    def count(queryset):
        return Coalesce(Subquery(queryset.annotate(n=Count("pk")).values("n")[:1]), 0)

    return {
        "flagged_count": count(flagged.filter(overdue_level__lt=7)),
        "alerted_count": count(flagged.filter(overdue_level__gte=7)),
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


def task_move(*, actor, room, task_id, direction):
    task = Task.objects.for_room(room).get(pk=task_id)
    _move(
        actor=actor,
        room=room,
        queryset=Task.objects.for_room(room).filter(milestone_id=task.milestone_id),
        pk=task_id,
        direction=direction,
    )


# --- decision criteria and risks --------------------------------------------------------


def criterion_create(*, actor, room, plan, title, notes=""):
    criterion = DecisionCriterion(
        org_id=room.org_id,
        room=room,
        plan=plan,
        title=title,
        notes=notes,
        order=_next_order(DecisionCriterion.objects.for_room(room)),
    )
    return versioned_create(actor=actor, room=room, instance=criterion)


def criterion_update(*, actor, room, criterion_id, base_version, changes):
    return versioned_update(
        actor=actor,
        room=room,
        queryset=DecisionCriterion.objects.for_room(room),
        pk=criterion_id,
        base_version=base_version,
        changes=changes,
    )


def criterion_delete(*, actor, room, criterion_id):
    versioned_delete(
        actor=actor, room=room, queryset=DecisionCriterion.objects.for_room(room), pk=criterion_id
    )


def risk_create(*, actor, room, plan, title, **fields):
    risk = Risk(
        org_id=room.org_id,
        room=room,
        plan=plan,
        title=title,
        order=_next_order(Risk.objects.for_room(room)),
        **fields,
    )
    return versioned_create(actor=actor, room=room, instance=risk)


def risk_update(*, actor, room, risk_id, base_version, changes):
    owner = changes.get("owner")
    if owner is not None and owner.room_id != room.pk:
        raise ValidationError({"owner": "Pick a person from this room."})
    return versioned_update(
        actor=actor,
        room=room,
        queryset=Risk.objects.for_room(room),
        pk=risk_id,
        base_version=base_version,
        changes=changes,
    )


def risk_delete(*, actor, room, risk_id):
    versioned_delete(actor=actor, room=room, queryset=Risk.objects.for_room(room), pk=risk_id)


# --- ordering ------------------------------------------------------------------------------


def _move(*, actor, room, queryset, pk, direction):
    """Swap a row with its neighbour above ("up") or below ("down")."""
    if direction not in ("up", "down"):
        raise PlanError("Move up or down.")
    with transaction.atomic():
        rows = list(queryset.select_for_update().order_by("order", "created_at"))
        index = next((i for i, r in enumerate(rows) if r.pk == pk), None)
        if index is None:
            raise queryset.model.DoesNotExist
        other = index - 1 if direction == "up" else index + 1
        if not 0 <= other < len(rows):
            return  # already first or last: nothing to do
        rows[index], rows[other] = rows[other], rows[index]
        for position, row in enumerate(rows):
            if row.order != position:
                queryset.filter(pk=row.pk).update(order=position, version=F("version") + 1)
        moved = rows[other]
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.MOVED,
            target=moved,
            changes={"order": {"label": "Position", "from": str(index + 1), "to": str(other + 1)}},
        )


# --- buyers, comments, agreement ---------------------------------------------------------

BUYER_TASK_FIELDS = {"status", "notes", "evidence"}


def buyer_task_update(*, access, task_id, base_version, changes):
    """A buyer changes status, notes or evidence of a buyer-side task in their scope.
    A task outside their scope does not exist for them (DoesNotExist)."""
    stakeholder, room = access.stakeholder, access.room
    task = (
        Task.objects.for_room(room).visible_to(stakeholder).select_related("owner").get(pk=task_id)
    )
    if not task.buyer_editable:
        raise ValidationError("This is a task of the seller's team; only they update it.")
    if set(changes) - BUYER_TASK_FIELDS:
        raise ValidationError("You can update the status, notes and evidence of your tasks.")
    task = task_update(
        actor=access.actor,
        room=room,
        task_id=task.pk,
        base_version=base_version,
        changes=changes,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return task


def buyer_task_create(*, access, milestone_id, title, owner=None, due_date=None):
    """Co-creation: a buyer adds a task for their side (owned by them unless they name
    another buyer-side person)."""
    stakeholder, room = access.stakeholder, access.room
    milestone = Milestone.objects.for_room(room).get(pk=milestone_id)
    owner = owner or stakeholder
    if owner.room_id != room.pk or owner.side != Side.BUYER:
        raise ValidationError({"owner": "Pick a person on your side."})
    task = task_create(
        actor=access.actor,
        room=room,
        milestone=milestone,
        title=title,
        owner=owner,
        due_date=due_date,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return task


def buyer_milestone_create(*, access, title, target_date=None):
    """Co-creation: a buyer adds a decision point their side leads, in their track."""
    stakeholder, room = access.stakeholder, access.room
    plan = Plan.objects.get(room=room, org_id=room.org_id)
    milestone = milestone_create(
        actor=access.actor,
        room=room,
        plan=plan,
        title=title,
        target_date=target_date,
        lead_side=Side.BUYER,
        track=stakeholder.track,
    )
    room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True)
    return milestone


def comment_create(*, actor, room, task, body):
    """Add to a task's thread; both sides read it. ``task`` comes from the caller's
    scoped queryset."""
    body = multi_line(body).strip()  # no NUL or other invisible control characters
    if not body:
        raise ValidationError("Write something first.")
    if len(body) > Comment._meta.get_field("body").max_length:
        raise ValidationError("A comment has at most 5000 characters.")
    if task.room_id != room.pk:
        raise ValidationError("Pick a task of this plan.")
    with transaction.atomic():
        comment = Comment.objects.create(
            org_id=room.org_id,
            room=room,
            task=task,
            author_user=actor.user,
            author_stakeholder=actor.stakeholder,
            author_label=actor.label[:250],
            body=body,
        )
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.COMMENTED,
            target=task,
            changes={"comment": {"label": "Comment", "from": "", "to": body[:300]}},
        )
        if actor.stakeholder is not None:
            room_buyer_activity(room_id=room.pk, stakeholder=actor.stakeholder, contributed=True)
    return comment


def plan_agree(*, access):
    """The buyer agrees to the plan as it stands; its dates are remembered, so any later
    change shows as "changed since agreed"."""
    stakeholder, room = access.stakeholder, access.room
    now = timezone.now()
    with transaction.atomic():
        plan = Plan.objects.select_for_update().get(room=room, org_id=room.org_id)
        Plan.objects.filter(pk=plan.pk).update(
            agreed_at=now,
            agreed_by=str(stakeholder),
            agreed_by_stakeholder=stakeholder,
            version=F("version") + 1,
            updated_at=now,
        )
        Room.objects.filter(pk=room.pk).update(plan_agreed_at=now)
        Task.objects.for_room(room).update(agreed_due_date=F("due_date"))
        Milestone.objects.for_room(room).update(agreed_target_date=F("target_date"))
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=access.actor,
            verb=ActivityEvent.Verb.AGREED,
            target=plan,
            target_label="the plan",
        )
        room_buyer_activity(room_id=room.pk, stakeholder=stakeholder, contributed=True, at=now)
    plan.refresh_from_db()
    return plan


# --- hand-off to Customer Success ------------------------------------------------------


def room_handover(*, actor, membership, room_id, cs_owner_id):
    """Hand a won deal over to Customer Success: name the CS owner (a member of the
    organisation), mark the room handed over, and append the onboarding plan (kick-off,
    integration, training, go-live) dated forward from the signature date. Everything
    already in the room stays: plan, activity, views, comments, agreement, links."""
    rooms = Room.objects.for_membership(membership)
    room = rooms.get(pk=room_id)
    cs_member = None
    # Only a number a user id can be is looked up (beyond the column's range the query
    # itself would fail).
    if isinstance(cs_owner_id, int) and 0 < cs_owner_id < 2**63:
        cs_member = (
            Membership.objects.filter(org_id=room.org_id, user_id=cs_owner_id)
            .select_related("user")
            .first()
        )
    if cs_member is None:
        raise OutcomeError("Pick a member of your organisation as the Customer Success owner.")
    cs_user = cs_member.user
    now = timezone.now()
    with transaction.atomic():
        if not rooms.filter(pk=room_id, outcome=Outcome.WON).update(
            outcome=Outcome.HANDED_OVER,
            cs_owner=cs_user,
            handed_over_at=now,
            version=F("version") + 1,
            updated_at=now,
        ):
            if room.outcome == Outcome.HANDED_OVER:
                raise OutcomeError("This deal is already handed over.")
            raise OutcomeError("Only a deal marked won can be handed over.")
        room.refresh_from_db()
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.HANDED_OVER,
            target=room,
            target_label=cs_user.display_name,
            target_version=room.version,
            changes={
                "outcome": {"label": "Outcome", "from": "Won", "to": "Handed over"},
                "cs_owner": {
                    "label": "Customer Success owner",
                    "from": "",
                    "to": cs_user.display_name,
                },
            },
        )
        plan = Plan.objects.for_room(room).first()
        if plan is None:
            plan = plan_start(actor=actor, room=room, template_slug="empty")
        person = (
            Stakeholder.objects.for_room(room)
            .filter(side=Side.SELLER, email__iexact=cs_user.email)
            .first()
        )
        if person is None:
            person = stakeholder_create(
                actor=actor,
                room=room,
                name=cs_user.display_name,
                email=cs_user.email,
                side=Side.SELLER,
                role=DecisionRole.CUSTOMER_SUCCESS,
                title="Customer Success",
            )
        signed = room.signature_date()
        for spec in ONBOARDING:
            milestone = milestone_create(
                actor=actor,
                room=room,
                plan=plan,
                title=spec.title,
                target_date=schedule_forward(signed, spec.days_after_signature),
                lead_side=spec.lead_side,
                track=spec.track,
                completion_condition=spec.completion_condition,
            )
            for task in spec.tasks:
                seller_task = task.side == Side.SELLER
                task_create(
                    actor=actor,
                    room=room,
                    milestone=milestone,
                    title=task.title,
                    owner=person if seller_task else None,
                    due_date=schedule_forward(signed, task.days_after_signature),
                    **({} if seller_task else {"side": Side.BUYER}),
                )
    return room


# --- plan problems: one-click fixes ---------------------------------------------------


def plan_problem_fix(*, actor, room, code, target_id, base_version=None, fix_date=None):
    """Apply the one-click fix of one of the plan's problems (``plans.schedule.problems``):
    the problem ``code`` about the milestone or task ``target_id``, as the plan stands
    now. Its date goes through ``milestone_update`` (target date) or ``task_update``
    (due date), like any other edit.

    ``base_version``: the row's version the person saw (``StaleWrite`` when its date
    moved since); the row's current version otherwise. ``fix_date``: the date the
    person was offered, refused when the fix now needs another. Raises ``PlanError``
    when the problem no longer applies or has no fix. Returns the updated row.
    """
    plan = Plan.objects.for_room(room).first()
    if plan is None:
        raise PlanError("This room has no plan yet.")
    found = selectors.room_schedule(room, template=plan.template)
    problem = next(
        (p for p in found.problems if p.code == code and str(p.target) == str(target_id)),
        None,
    )
    if problem is None or problem.target is None or problem.fix_date is None:
        raise PlanError(
            "That problem no longer applies: the plan changed meanwhile. "
            "The list shows the plan as it is now."
        )
    if fix_date is not None and fix_date != problem.fix_date:
        raise PlanError(
            f"Not moved: the plan changed meanwhile, and the fix is now “{problem.fix}”. "
            "Check it and try again."
        )
    item = found.of(problem.target).item
    if item.kind == schedule.MILESTONE:
        model, update, id_arg, field = Milestone, milestone_update, "milestone_id", "target_date"
    else:
        model, update, id_arg, field = Task, task_update, "task_id", "due_date"
    if base_version is None:
        base_version = (
            model.objects.for_room(room)
            .filter(pk=problem.target)
            .values_list("version", flat=True)
            .first()
        )
    return update(
        actor=actor,
        room=room,
        base_version=base_version,
        changes={field: problem.fix_date},
        **{id_arg: problem.target},
    )


# --- re-planning: the open work moves with the close date --------------------------------


REPLAN_DATES = {
    "target_close_date": "the new target close date",
    "previous_close_date": "the close date the work moves from",
}


def _replan_date(value, name):
    """``value`` when it is a date (callers parse what people typed); ValidationError
    otherwise."""
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    raise ValidationError({name: f"Give {REPLAN_DATES[name]} as a real date (YYYY-MM-DD)."})


def _days_text(days):
    n = abs(days)
    return f"{n} day{'' if n == 1 else 's'} {'later' if days > 0 else 'earlier'}"


def plan_replan(
    *, actor, room, target_close_date, previous_close_date=None, offered_at_revision=None
):
    """Move the room's target close date to ``target_close_date`` and every open milestone
    and open task that has a date by the same number of days; done work keeps its dates.

    ``previous_close_date``: the date to count the days from when the close date was
    already changed (the room header saves it first, then offers to move the work): the
    room's close date must then be ``target_close_date`` still. Without it, the days are
    counted from the room's close date as it is. ``offered_at_revision``: the room's
    revision when the move was offered; refused when the plan was re-planned after it,
    so an offer posted twice moves the work once.

    Every moved row's ``version`` moves on (a stale edit of its date then conflicts, on
    the pages as through the API); a moved task's overdue flags start afresh, as for any
    new due date. One transaction, one activity entry naming each moved row with its
    old and new date, one revision: live viewers redraw the plan once. Moving by 0 days
    changes nothing and logs nothing. A lost deal's room refuses (``RoomReadOnly``);
    a missing or invalid date is a ``ValidationError``; a stale offer a ``PlanError``.
    Returns the room's schedule (``plans.schedule.Schedule``) as it is now.
    """
    target = _replan_date(target_close_date, "target_close_date")
    previous = None
    if previous_close_date is not None:
        previous = _replan_date(previous_close_date, "previous_close_date")
    room_writable(room)
    moved = False
    with transaction.atomic():
        current = Room.objects.select_for_update().get(pk=room.pk, org_id=room.org_id)
        if previous is not None and current.target_close_date != target:
            raise PlanError(
                "Not moved: the target close date changed again meanwhile (now "
                f"{current.target_close_date:%Y-%m-%d}). Change it again to move the work."
            )
        if (
            offered_at_revision is not None
            and ActivityEvent.objects.filter(
                room=current,
                verb=ActivityEvent.Verb.REPLANNED,
                room_revision__gt=offered_at_revision,
            ).exists()
        ):
            raise PlanError("The open work was already moved with the close date.")
        start = previous if previous is not None else current.target_close_date
        days = (target - start).days
        if days:
            moved = _replan_move(actor=actor, room=current, target=target, days=days)
    if moved:
        room_overdue_recount([room.pk])
        plan_changed([room.pk])
    room.refresh_from_db()
    plan = Plan.objects.for_room(room).first()
    return selectors.room_schedule(room, template=plan.template if plan else "")


def _replan_move(*, actor, room, target, days):
    """The writes of ``plan_replan`` (inside its transaction, ``room`` locked): whether
    anything moved."""
    delta = datetime.timedelta(days=days)
    now = timezone.now()
    changes = {}
    if room.target_close_date != target:
        problem = go_live_problem(target, room.go_live_date)
        if problem:
            raise ValidationError({"target_close_date": problem})
        Room.objects.filter(pk=room.pk).update(
            target_close_date=target, version=F("version") + 1, updated_at=now
        )
        changes[str(room.pk)] = _moved_entry(
            "Target close date", room.target_close_date, target, "target_close_date", room.version
        )
    milestones_qs, tasks_qs = selectors.open_dated_work(room)
    milestones = list(milestones_qs.select_for_update().order_by("order", "created_at"))
    tasks = list(tasks_qs.select_for_update().order_by("milestone__order", "order", "created_at"))
    try:
        for m in milestones:
            before, m.target_date = m.target_date, m.target_date + delta
            changes[str(m.pk)] = _moved_entry(
                m.title, before, m.target_date, "target_date", m.version
            )
            m.version += 1
            m.updated_at = now
        for t in tasks:
            before, t.due_date = t.due_date, t.due_date + delta
            changes[str(t.pk)] = _moved_entry(t.title, before, t.due_date, "due_date", t.version)
            t.version += 1
            t.updated_at = now
            # A new date is a new promise: overdue flags start afresh (as in task_update).
            t.overdue_level, t.overdue_for = 0, None
    except OverflowError:
        raise ValidationError(
            {"target_close_date": "That moves some of the plan's dates out of the calendar."}
        ) from None
    if not changes:
        return False
    Milestone.objects.bulk_update(milestones, ["target_date", "version", "updated_at"], 500)
    Task.objects.bulk_update(
        tasks, ["due_date", "overdue_level", "overdue_for", "version", "updated_at"], 500
    )
    plan = Plan.objects.for_room(room).first()
    room_touch(room.pk)
    count = len(milestones) + len(tasks)
    activity_record(
        room=room,
        actor=actor,
        verb=ActivityEvent.Verb.REPLANNED,
        target=plan or room,
        target_label=(
            f"the plan: {count} open item{'' if count == 1 else 's'} moved {_days_text(days)}"
        ),
        changes=changes,
    )
    return True


def _moved_entry(label, before, after, field, version):
    """One moved row in the re-plan's activity entry (keyed by the row's id): its field
    and the version it reached, which is what a late writer of that field is told about
    (rooms.services._moved_since)."""
    return {
        "label": label[:250],
        "from": before.isoformat(),
        "to": after.isoformat(),
        "field": field,
        "version": version + 1,
    }
