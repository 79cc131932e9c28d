"""The seller's room page: everything it shows (``room_plan``), and one task or
milestone labelled as on the page (its step number needs its neighbours)."""

from django.utils import timezone

from rooms.activity_days import activity_days
from rooms.models import ActivityEvent, Stage, Weekday
from stakeholders.models import TEMPLATE_CHOICES, Side, Track
from stakeholders.selectors import people_of

from ..models import (
    DecisionCriterion,
    Impact,
    Milestone,
    Risk,
    Task,
    TaskStatus,
)
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
