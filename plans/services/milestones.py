"""A plan's milestones: adding, changing, removing, moving; and their status, which follows
their tasks."""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, F, Q
from django.utils import timezone

from rooms.activity_log import activity_record
from rooms.models import ActivityEvent
from rooms.revision import room_touch
from rooms.versioning import versioned_create, versioned_delete, versioned_update

from ..models import (
    Milestone,
    MilestoneStatus,
    Task,
    TaskStatus,
)
from .base import _move, _next_order
from .signals import SCHEDULE_MILESTONE_FIELDS, plan_changed, room_overdue_recount

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
