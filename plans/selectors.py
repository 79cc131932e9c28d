"""Reads of a room's plan, in a fixed number of queries whatever the plan's size."""

from rooms.models import ActivityEvent, Stage, Weekday
from stakeholders.models import TEMPLATE_CHOICES, Side, Stakeholder, Track

from .models import DecisionCriterion, Impact, Milestone, Plan, Risk, Task, TaskStatus

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

    Queries: plan, milestones, their dependencies, tasks, stakeholders, criteria,
    risks, recent activity — eight, for 5 tasks or 500.
    """
    plan = Plan.objects.filter(room=room).first()
    stakeholders = list(Stakeholder.objects.for_room(room))
    by_id = {s.pk: s for s in stakeholders}
    context = {
        **CHOICES,
        "room": room,
        "plan": plan,
        "today": room.today(),
        "stakeholders": stakeholders,
        "buyers": [s for s in stakeholders if s.side == Side.BUYER],
        "sellers": [s for s in stakeholders if s.side == Side.SELLER],
        "recent_activity": list(ActivityEvent.objects.filter(room=room)[:6]),
    }
    if plan is None:
        return context | {"milestones": [], "criteria": [], "risks": []}
    milestones = list(Milestone.objects.for_room(room).prefetch_related("depends_on"))
    tasks = list(Task.objects.for_room(room))
    for task in tasks:  # owners come from the stakeholder list, not one query each
        if task.owner_id:
            task.owner = by_id.get(task.owner_id)
    risks = list(Risk.objects.for_room(room))
    for risk in risks:
        if risk.owner_id:
            risk.owner = by_id.get(risk.owner_id)
    _label(milestones, tasks, context["today"], room)
    return context | {
        "milestones": milestones,
        "criteria": list(DecisionCriterion.objects.for_room(room)),
        "risks": risks,
        "task_count": len(tasks),
        "done_count": sum(1 for t in tasks if t.is_done),
    }


def _label(milestones, tasks, today, room):
    grouped = {m.pk: [] for m in milestones}
    for task in tasks:
        grouped.setdefault(task.milestone_id, []).append(task)
    for m_index, milestone in enumerate(milestones, start=1):
        milestone.step = str(m_index)
        milestone.task_list = grouped.get(milestone.pk, [])
        milestone.dependency_ids = {d.pk for d in milestone.depends_on.all()}
        for t_index, task in enumerate(milestone.task_list, start=1):
            annotate_task(task, room=room, today=today, step=f"{m_index}.{t_index}")


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
