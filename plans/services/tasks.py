"""A plan's tasks: adding, changing (the owner decides the side; done stamps the time),
removing, moving."""

from django.core.exceptions import ValidationError
from django.utils import timezone

from rooms.versioning import versioned_create, versioned_delete, versioned_update
from stakeholders.models import Stakeholder

from ..models import (
    Task,
    TaskStatus,
)
from .base import _move, _next_order
from .milestones import milestone_refresh
from .signals import PLAN_SIGNAL_FIELDS, plan_changed, room_overdue_recount

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


def task_move(*, actor, room, task_id, direction):
    task = Task.objects.for_room(room).get(pk=task_id)
    _move(
        actor=actor,
        room=room,
        queryset=Task.objects.for_room(room).filter(milestone_id=task.milestone_id),
        pk=task_id,
        direction=direction,
    )
