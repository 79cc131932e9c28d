"""Which entries of the activity log are webhook events, and what each one says.

The activity log is the one record of what happened in a room (every service writes
it, the overdue sweep included), so webhooks read it instead of hooking into each
service: an event cannot be forgotten by a new code path that logs its change.
"""

from typing import NamedTuple

from django.core.exceptions import ValidationError

from plans.models import Milestone, Plan, Task
from rooms.models import ActivityEvent, Room
from stakeholders.models import Stakeholder

from .models import EventType

Verb = ActivityEvent.Verb

# (verb, target type) -> event type. Task completion is an "updated" entry; see below.
BY_VERB = {
    (Verb.FLAGGED, "task"): EventType.TASK_FLAGGED,
    (Verb.ALERTED, "task"): EventType.TASK_ALERTED,
    (Verb.COMPLETED, "milestone"): EventType.MILESTONE_COMPLETED,
    (Verb.AGREED, "plan"): EventType.PLAN_AGREED,
    (Verb.WON, "room"): EventType.ROOM_WON,
    (Verb.LOST, "room"): EventType.ROOM_LOST,
    (Verb.FIRST_VIEW, "stakeholder"): EventType.STAKEHOLDER_FIRST_VIEW,
}
VERBS = {verb for verb, _ in BY_VERB} | {Verb.UPDATED}


def completes_task(event):
    """A task moved to done: ``plans.services.task_update`` stamps ``completed_at`` in
    the same change, so its log entry records completed_at going from empty to a time
    (re-saving a done task does not, nor does reopening one)."""
    change = (event.changes or {}).get("completed_at")
    return (
        event.verb == Verb.UPDATED
        and event.target_type == "task"
        and isinstance(change, dict)
        and change.get("from") == ""
        and change.get("to") not in ("", None)
    )


def event_type_of(event):
    if event.verb == Verb.UPDATED:
        return EventType.TASK_COMPLETED if completes_task(event) else None
    return BY_VERB.get((event.verb, event.target_type))


class Occurrence(NamedTuple):
    """One event an entry makes: its public id (the same for every endpoint), its
    object, and what changed."""

    id: str
    target_id: str
    label: str
    changes: dict


def occurrences(event, event_type):
    """The events an entry makes: one, or one per task an overdue sweep entry names. A
    buyer's first view is one event per stakeholder, however many entries concurrent
    first requests logged."""
    if event.verb in ActivityEvent.PER_TASK_VERBS:
        return [
            Occurrence(
                f"evt_{event.pk}_{task_id}",
                task_id,
                late.get("label", ""),
                {"late": {"label": "Days late", "from": "", "to": str(late.get("days", ""))}},
            )
            for task_id, late in ActivityEvent.targets_of(
                event.verb, event.target_id, event.changes
            )
        ]
    if event_type == EventType.STAKEHOLDER_FIRST_VIEW:
        event_id = f"evt_first_view_{event.target_id}"
    else:
        event_id = f"evt_{event.pk}"
    return [Occurrence(event_id, event.target_id, event.target_label, event.changes or {})]


# --- payloads ------------------------------------------------------------------------


def _iso(value):
    return value.isoformat() if value is not None else None


def _room(room):
    return {
        "id": str(room.pk),
        "name": room.name,
        "buyer_company": room.buyer_company,
        "stage": room.stage,
        "outcome": room.outcome,
        "outcome_reason": room.outcome_reason,
        "value": str(room.value),
        "currency": room.currency,
        "target_close_date": _iso(room.target_close_date),
        "closed_at": _iso(room.closed_at),
    }


def _task(task):
    return {
        "id": str(task.pk),
        "room": str(task.room_id),
        "milestone": str(task.milestone_id),
        "title": task.title,
        "owner": str(task.owner_id) if task.owner_id else None,
        "side": task.effective_side,
        "due_date": _iso(task.due_date),
        "status": task.status,
        "completed_at": _iso(task.completed_at),
        "overdue_days": task.days_overdue(task.room.today()),
        "flag": task.overdue_flag or "none",
        "version": task.version,
    }


def _milestone(m):
    return {
        "id": str(m.pk),
        "room": str(m.room_id),
        "title": m.title,
        "target_date": _iso(m.target_date),
        "lead_side": m.lead_side,
        "track": m.track,
        "status": m.status,
        "completed_at": _iso(m.completed_at),
        "version": m.version,
    }


def _plan(plan):
    return {
        "id": str(plan.pk),
        "room": str(plan.room_id),
        "agreed_at": _iso(plan.agreed_at),
        "agreed_by": plan.agreed_by,
        "agreed_by_stakeholder": (
            str(plan.agreed_by_stakeholder_id) if plan.agreed_by_stakeholder_id else None
        ),
    }


def _stakeholder(person):
    return {
        "id": str(person.pk),
        "room": str(person.room_id),
        "name": person.name,
        "email": person.email,
        "title": person.title,
        "side": person.side,
        "role": person.role,
    }


OBJECTS = {
    "task": (Task, _task, ["room", "owner"]),
    "milestone": (Milestone, _milestone, []),
    "plan": (Plan, _plan, []),
    "room": (Room, _room, []),
    "stakeholder": (Stakeholder, _stakeholder, []),
}


def object_of(event, occurrence):
    """The event's object as it is now (or what the log remembers of a deleted one)."""
    model, render, related = OBJECTS[event.target_type]
    queryset = model.objects.select_related(*related) if related else model.objects.all()
    try:
        instance = queryset.filter(pk=occurrence.target_id, org_id=event.org_id).first()
    except (ValidationError, ValueError):
        instance = None
    if instance is None:
        return {"id": occurrence.target_id, "label": occurrence.label, "deleted": True}
    return render(instance)


def payload_for(event, event_type, occurrence, org, room):
    return {
        "id": occurrence.id,
        "type": str(event_type),
        "time": event.created_at.isoformat(),
        "organization": {"id": str(org.pk), "name": org.name},
        "room": {"id": str(room.pk), "name": room.name, "buyer_company": room.buyer_company},
        "actor": {"kind": event.actor_kind, "label": event.actor_label},
        "changes": occurrence.changes,
        "object": object_of(event, occurrence),
    }
