"""Writes to a room's stakeholder map, through the room's versioned write path."""

from rooms.services import versioned_create, versioned_delete, versioned_update

from .models import Stakeholder


def stakeholder_create(*, actor, room, name, **fields):
    person = Stakeholder(org_id=room.org_id, room=room, name=name, **fields)
    return versioned_create(actor=actor, room=room, instance=person)


def stakeholder_update(*, actor, room, stakeholder_id, base_version, changes):
    return versioned_update(
        actor=actor,
        room=room,
        queryset=Stakeholder.objects.for_room(room),
        pk=stakeholder_id,
        base_version=base_version,
        changes=changes,
    )


def stakeholder_delete(*, actor, room, stakeholder_id):
    """Remove a person; tasks and risks they owned keep going, without an owner."""
    versioned_delete(
        actor=actor, room=room, queryset=Stakeholder.objects.for_room(room), pk=stakeholder_id
    )
