"""Reads of a room's plan, in a fixed number of queries whatever the plan's size."""

import uuid

from django.db.models import CharField, Count, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast
from django.utils import timezone

from accounts.models import Membership
from rooms.activity_days import activity_days
from rooms.models import ActivityEvent, Room, Stage, Weekday
from stakeholders.models import TEMPLATE_CHOICES, Scope, Side, Stakeholder, Track
from stakeholders.selectors import people_of

from . import schedule
from .models import (
    Comment,
    DecisionCriterion,
    Impact,
    Milestone,
    MilestoneStatus,
    Plan,
    Risk,
    Task,
    TaskStatus,
)
from .timeline import timeline

CHOICES = {
    "status_choices": TaskStatus.choices,
    "side_choices": Side.choices,
    "track_choices": Track.choices,
    "impact_choices": Impact.choices,
    "room_stage_choices": Stage.choices,
    "room_weekday_choices": Weekday.choices,
    **TEMPLATE_CHOICES,
}


def room_plan(room):
    """Everything the room page shows, as plain lists with computed labels.

    Queries: plan (none when the room was read with it), milestones with their
    dependencies, tasks, comments, stakeholders with their engagement and links,
    criteria, risks, recent activity — the same number for 5 tasks or 500
    (tests/plans/test_editor.py holds it there).
    """
    plan = plan_of(room)
    stakeholders = people_of(room)
    by_id = {s.pk: s for s in stakeholders}
    context = {
        **CHOICES,
        "room": room,
        "plan": plan,
        "today": room.today(),
        "stakeholders": stakeholders,
        "buyers": [s for s in stakeholders if s.side == Side.BUYER],
        "sellers": [s for s in stakeholders if s.side == Side.SELLER],
        "recent_activity": activity_days(
            ActivityEvent.objects.for_room(room)[:6],
            tz=room.tzinfo,
            now=timezone.now(),
            room_name=room.name,
        ),
    }
    if plan is None:
        return context | {"milestones": [], "criteria": [], "risks": []}
    milestones = with_dependency_ids(Milestone.objects.for_room(room))
    tasks = list(Task.objects.for_room(room))
    for task in tasks:  # owners come from the stakeholder list, not one query each
        if task.owner_id:
            task.owner = by_id.get(task.owner_id)
    risks = list(Risk.objects.for_room(room))
    for risk in risks:
        if risk.owner_id:
            risk.owner = by_id.get(risk.owner_id)
    _label(milestones, tasks, context["today"], room)
    comments = _comments_by_task(room)
    for task in tasks:
        task.thread = comments.get(task.pk, [])
    _mark_agreement(plan, milestones, tasks)
    plan_schedule = room_schedule(
        room, template=plan.template, milestones=milestones, tasks=tasks, today=context["today"]
    )
    _mark_schedule(plan_schedule, milestones, tasks)
    return context | {
        "schedule": plan_schedule,
        "timeline": timeline(plan_schedule, milestones, room=room),
        "milestones": milestones,
        "criteria": list(DecisionCriterion.objects.for_room(room)),
        "risks": risks,
        "task_count": len(tasks),
        "done_count": sum(1 for t in tasks if t.is_done),
    }


def plan_of(room):
    """The room's plan (None before it is started), with who agreed to it: the one the
    room was read with (``rooms.selectors.room_for_member(..., with_plan=True)``, the
    buyer's link), or one query."""
    if Room.plan.is_cached(room):
        return getattr(room, "plan", None)
    return Plan.objects.filter(room=room).select_related("agreed_by_stakeholder").first()


def with_dependency_ids(milestones):
    """The milestones (a queryset), each with ``dependency_ids``: the ids of the
    milestones it waits for, read in the same query."""
    waits = (
        Milestone.depends_on.through.objects.filter(from_milestone=OuterRef("pk"))
        .order_by()
        .values("from_milestone")
        .annotate(ids=StringAgg(Cast("to_milestone_id", CharField()), Value(",")))
        .values("ids")
    )
    rows = list(milestones.annotate(dependency_csv=Subquery(waits)))
    for milestone in rows:
        csv = milestone.dependency_csv
        milestone.dependency_ids = {uuid.UUID(pk) for pk in csv.split(",")} if csv else set()
    return rows


def _label(milestones, tasks, today, room):
    grouped = {m.pk: [] for m in milestones}
    for task in tasks:
        grouped.setdefault(task.milestone_id, []).append(task)
    for m_index, milestone in enumerate(milestones, start=1):
        milestone.step = str(m_index)
        milestone.task_list = grouped.get(milestone.pk, [])
        milestone.done_visible = sum(t.is_done for t in milestone.task_list)
        for t_index, task in enumerate(milestone.task_list, start=1):
            annotate_task(task, room=room, today=today, step=f"{m_index}.{t_index}")


def _mark_schedule(plan_schedule, milestones, tasks):
    """Each row gets its ``projection`` (schedule.Projection) and, when it is late and
    moves something, its ``consequence`` (schedule.Consequence)."""
    consequences = plan_schedule.consequences()
    for row in [*milestones, *tasks]:
        row.projection = plan_schedule.of(row.pk)
        row.consequence = consequences.get(row.pk)


def annotate_task(task, *, room, today, step=""):
    task.step = step
    task.overdue_days = task.days_overdue(today)
    task.after_close = task.due_after_close(room)
    return task


def task_in_context(room, task_id):
    """One task labelled as on the page (its step number needs its neighbours)."""
    context = room_plan(room)
    for milestone in context["milestones"]:
        for task in milestone.task_list:
            if task.pk == task_id:
                return task, context
    raise Task.DoesNotExist


def milestone_in_context(room, milestone_id):
    context = room_plan(room)
    for milestone in context["milestones"]:
        if milestone.pk == milestone_id:
            return milestone, context
    raise Milestone.DoesNotExist


def _comments_by_task(room, task_ids=None):
    comments = Comment.objects.for_room(room)
    if task_ids is not None:
        comments = comments.filter(task_id__in=task_ids)
    grouped = {}
    for comment in comments:
        grouped.setdefault(comment.task_id, []).append(comment)
    return grouped


def _mark_agreement(plan, milestones, tasks):
    """Dates moved since the buyer agreed, and rows added since, are marked."""
    agreed = plan.agreed_at if plan else None
    for m in milestones:
        m.changed_since_agreed = bool(
            agreed and m.agreed_target_date != m.target_date and m.created_at <= agreed
        )
        m.added_since_agreed = bool(agreed and m.created_at > agreed)
    for t in tasks:
        t.changed_since_agreed = bool(
            agreed and t.agreed_due_date != t.due_date and t.created_at <= agreed
        )
        t.added_since_agreed = bool(agreed and t.created_at > agreed)


def buyer_room(access):
    """What one buyer stakeholder sees of their room, in a fixed number of queries."""
    room, me = access.room, access.stakeholder
    plan = plan_of(room)
    people = list(
        Stakeholder.objects.for_room(room)
        .with_access()
        # The size of the seller's team, said on the page, read with the people.
        .annotate(team=Subquery(_team_size(room.org_id)))
    )
    by_id = {p.pk: p for p in people}
    today = room.today()
    invited = [p for p in people if p.side == Side.BUYER and (p.has_link or p.pk == me.pk)]
    context = {
        "room": room,
        "plan": plan,
        "me": me,
        "today": today,
        "whole_plan": me.scope == Scope.WHOLE_PLAN,
        "sellers": [p for p in people if p.side == Side.SELLER],
        "buyers": [p for p in people if p.side == Side.BUYER],
        "next_review": room.next_review(),
        "status_choices": TaskStatus.choices,
        # Who may open this room, as far as this buyer may be told (their scope).
        "who_sees": {
            "buyers": [p for p in invited if me.sees(p)],
            "others": sum(not me.sees(p) for p in invited),
            "team": people[0].team
            if people
            else Membership.objects.filter(org_id=room.org_id).count(),
        },
    }
    if plan is None:
        return context | {"milestones": [], "my_tasks": [], "criteria": [], "risks": []}
    milestones = with_dependency_ids(Milestone.objects.for_room(room))
    # The whole plan moves the dates; this buyer sees their part of it.
    every_task = list(Task.objects.for_room(room).with_visibility(me))
    for task in every_task:
        task.owner = by_id.get(task.owner_id) if task.owner_id else None
    tasks = [task for task in every_task if task.visible]
    for task in tasks:
        task.editable = task.buyer_editable
    comments = _comments_by_task(room, [t.pk for t in tasks])
    for task in tasks:
        task.thread = comments.get(task.pk, [])
    _label(milestones, tasks, today, room)
    _mark_agreement(plan, milestones, tasks)
    # The schedule is the whole plan's (what buyers cannot see still moves the date);
    # the page shows only what this buyer may see of it (``visible_cause``, the rows).
    plan_schedule = room_schedule(
        room, template=plan.template, milestones=milestones, tasks=every_task, today=today
    )
    _mark_schedule(plan_schedule, milestones, tasks)
    mine = sorted(
        (t for t in tasks if t.owner_id == me.pk and not t.is_done),
        key=lambda t: (t.due_date is None, t.due_date),
    )
    whole = context["whole_plan"]
    risks = list(Risk.objects.for_room(room)) if whole else []
    for risk in risks:
        risk.owner = by_id.get(risk.owner_id) if risk.owner_id else None
    visible_ids = {t.pk for t in tasks}
    cause = plan_schedule.cause
    return context | {
        "schedule": plan_schedule,
        # What sets the date, named only when this buyer may see it (milestones they all
        # see; a task only in their scope).
        "visible_cause": cause
        if cause and (cause.item.kind == schedule.MILESTONE or cause.item.id in visible_ids)
        else None,
        "milestones": milestones,
        "my_tasks": mine,
        "progress": buyer_progress(milestones, today, room.target_close_date),
        "criteria": list(DecisionCriterion.objects.for_room(room)) if whole else [],
        "risks": risks,
        # Milestones only: a buyer's timeline never draws tasks, and a bar starts from
        # no task this buyer cannot see.
        "timeline": timeline(
            plan_schedule, milestones, room=room, buyer=True, task_ids=visible_ids
        ),
    }


def _team_size(org_id):
    """The number of accounts in the organisation (a subquery: ``values`` of ``n``)."""
    return (
        Membership.objects.filter(org_id=org_id)
        .order_by()
        .values("org_id")
        .annotate(n=Count("pk"))
        .values("n")
    )


def buyer_progress(milestones, today, target):
    """How far the plan is, as a buyer reads it at the top of their room: steps done of
    the steps they see, the next open one (soonest due), the days to the target date,
    and a bar with one segment per milestone (its share of the steps, filled by the
    share done), in units of a 100-wide drawing."""
    tasks = [t for m in milestones for t in m.task_list]
    total, done = len(tasks), sum(t.is_done for t in tasks)
    waiting = [t for t in tasks if not t.is_done]
    upcoming = sorted((t for t in waiting if t.due_date), key=lambda t: t.due_date)
    segments, x, gap = [], 0.0, 0.6
    for m in milestones:
        if not m.task_list or not total:
            continue
        width = 100 * len(m.task_list) / total
        finished = sum(t.is_done for t in m.task_list)
        shown = max(width - gap, 0.0)
        segments.append(
            {
                "x": round(x, 2),
                "width": round(shown, 2),
                "done": round(shown * finished / len(m.task_list), 2),
            }
        )
        x += width
    owners = {}
    for t in tasks:
        name = t.owner.name if t.owner else "No owner yet"
        owners[name] = owners.get(name, 0) + 1
    return {
        "total": total,
        "done": done,
        "owners": sorted(owners.items(), key=lambda item: (-item[1], item[0])),
        "next": upcoming[0] if upcoming else (waiting[0] if waiting else None),
        "days_left": (target - today).days if target else None,
        "segments": segments,
    }


# --- the plan as a schedule (plans.schedule) --------------------------------------------


def replan_offer(room, previous):
    """What the room header offers once the close date moved from ``previous`` (a date,
    or None): how many days, which way, how many open dated items would move with it
    (plans.services.plan_replan); None when nothing would."""
    if previous is None or room.is_read_only:
        return None
    days = (room.target_close_date - previous).days
    if not days:
        return None
    milestones, tasks = open_dated_work(room)
    count = milestones.count() + tasks.count()
    if not count:
        return None
    return {
        "previous": previous,
        "days": abs(days),
        "later": days > 0,
        "count": count,
        "revision": room.revision,
    }


def open_dated_work(room):
    """What a re-plan moves: the room's open milestones and open tasks that carry a date
    (two querysets). Done work keeps its dates."""
    return (
        Milestone.objects.for_room(room)
        .exclude(status=MilestoneStatus.DONE)
        .filter(target_date__isnull=False),
        Task.objects.for_room(room).exclude(status=TaskStatus.DONE).filter(due_date__isnull=False),
    )


def _local_day(moment, room):
    return moment.astimezone(room.tzinfo).date() if moment else None


def schedule_items(room, milestones, tasks, dependencies):
    """``schedule.Item`` rows of a room's milestones and tasks (model instances, in plan
    order); ``dependencies``: milestone id -> ids of the milestones it depends on."""
    # Dependencies in plan order, so that every page breaks a tie between two alike.
    position = {m.pk: (m.order, str(m.pk)) for m in milestones}
    last = (float("inf"), "")
    out = []
    for m in milestones:
        out.append(
            schedule.Item(
                id=m.pk,
                kind=schedule.MILESTONE,
                title=m.title,
                date=m.target_date,
                done=m.status == MilestoneStatus.DONE,
                completed=_local_day(m.completed_at, room),
                depends_on=tuple(
                    sorted(dependencies.get(m.pk, ()), key=lambda d: position.get(d, last))
                ),
                order=m.order,
                condition=m.completion_condition,
                buyer_side=m.lead_side == Side.BUYER,
                created=_local_day(m.created_at, room),
            )
        )
    for t in tasks:
        out.append(
            schedule.Item(
                id=t.pk,
                kind=schedule.TASK,
                title=t.title,
                date=t.due_date,
                done=t.status == TaskStatus.DONE,
                completed=_local_day(t.completed_at, room),
                milestone_id=t.milestone_id,
                order=t.order,
                has_owner=t.owner_id is not None,
                buyer_side=(t.owner.side if t.owner_id and t.owner else t.side) == Side.BUYER,
                created=_local_day(t.created_at, room),
            )
        )
    return out


def dependencies_of(milestone_ids):
    """Milestone id -> ids of the milestones it depends on (one query)."""
    through = Milestone.depends_on.through.objects.filter(from_milestone_id__in=milestone_ids)
    out = {}
    for before, after in through.values_list("to_milestone_id", "from_milestone_id"):
        out.setdefault(after, []).append(before)
    return out


def room_schedule(room, *, template="", milestones=None, tasks=None, today=None):
    """The room's ``schedule.Schedule``, with its ``problems`` (``template``: the plan's
    template slug, for the deal-size guidance). Pass the milestones and
    tasks already read (as the room page does) to read nothing more than dependencies."""
    if milestones is None:
        milestones = list(Milestone.objects.for_room(room))
    if tasks is None:
        tasks = list(Task.objects.for_room(room).select_related("owner"))
    deps = {
        m.pk: m.dependency_ids for m in milestones if getattr(m, "dependency_ids", None) is not None
    }
    if len(deps) < len(milestones):
        deps = dependencies_of([m.pk for m in milestones])
    # In plan order, so that every page breaks a tie between two dependencies alike.
    position = {m.pk: index for index, m in enumerate(milestones)}
    deps = {
        pk: sorted(ids, key=lambda d: position.get(d, len(position))) for pk, ids in deps.items()
    }
    items = schedule_items(room, milestones, tasks, deps)
    close = room.target_close_date
    result = schedule.project(items, today=today or room.today(), target_close=close)
    result.problems = schedule.problems(items, target_close=close, template=template)
    return result
