"""The decision criteria and risks of a plan."""

from django.core.exceptions import ValidationError

from rooms.versioning import versioned_create, versioned_delete, versioned_update

from ..models import (
    DecisionCriterion,
    Risk,
)
from .base import _next_order

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
