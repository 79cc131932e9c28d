"""What one buyer stakeholder sees of their room (``buyer_room``), the size of the
seller's team said on it, and how far the plan is as the buyer reads it
(``buyer_progress``)."""

from django.db.models import Count, Subquery

from accounts.models import Membership
from stakeholders.models import Scope, Side, Stakeholder

from .. import schedule
from ..models import DecisionCriterion, Milestone, Risk, Task, TaskStatus
from ..timeline import timeline
from .rows import (
    _comments_by_task,
    _label,
    _mark_agreement,
    _mark_schedule,
    plan_of,
    with_dependency_ids,
)
from .scheduling import room_schedule


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
