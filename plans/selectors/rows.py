"""The rows both room pages read, and how their rows are marked: the plan, the
milestones with the ids of those they wait for, step labels and overdue days, comment
threads, what changed since the buyer agreed, and each row's projection and
consequence on the schedule."""

import uuid

from django.db.models import CharField, OuterRef, StringAgg, Subquery, Value
from django.db.models.functions import Cast

from rooms.models import Room

from ..models import Comment, Milestone, Plan


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
