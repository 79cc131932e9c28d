"""The one write path of a room.

Every change to anything in a room (the room itself, its plan, its stakeholders)
goes through ``versioned_create``, ``versioned_update`` or ``versioned_delete``. In
one transaction they apply optimistic locking on the row's ``version``, bump the
room's ``revision`` and record an ActivityEvent with the actor and each field's
before and after.

A writer that started from an older version is not refused outright: if none of
the fields it changes moved since its version, its change is applied on top
(field-level merge). If one did, it gets ``StaleWrite`` with the other person's
value, who set it and when, and the refused attempt is logged too.

Its parts live beside it: who writes (rooms/actors.py, ``Actor``), the room's revision
and the read-only rule of lost rooms (rooms/revision.py) and the activity entries
(rooms/activity_log.py).
"""

import copy

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.dispatch import Signal
from django.utils import timezone

from mapsite.text import clean_text_fields, clean_text_values

from .activity_log import NOT_LOGGED, activity_record, display_value, field_label
from .models import ActivityEvent, Room
from .revision import room_touch

# Sent with ``room_ids`` after a room's target close date changed (plans re-projects).
close_date_changed = Signal()


class StaleWrite(Exception):  # noqa: N818 - it is a refusal, not a crash
    """The fields a writer changed were changed by someone else since it read them.

    ``clashes`` maps each field to ``{"label", "theirs", "mine", "by", "at"}``;
    ``instance`` is the row as it is now.
    """

    def __init__(self, instance, clashes):
        super().__init__(f"{instance!r} changed since it was read: {', '.join(clashes)}")
        self.instance = instance
        self.clashes = clashes


def _m2m_ids(instance, name):
    return {obj.pk for obj in getattr(instance, name).all()}


def _moved_since(instance, base_version):
    """Fields of ``instance`` changed after ``base_version``: field -> last change."""
    events = ActivityEvent.objects.filter(
        target_type=instance._meta.model_name,
        target_id=str(instance.pk),
        target_version__gt=base_version,
        verb=ActivityEvent.Verb.UPDATED,
    ).order_by("target_version")
    found = [(event.target_version, name, event) for event in events for name in event.changes]
    # A re-plan moves many rows' dates in one entry, keyed by row id, each naming the
    # field it moved and the version the row reached (plans.services.plan_replan).
    key = str(instance.pk)
    room_id = instance.pk if isinstance(instance, Room) else getattr(instance, "room_id", None)
    if room_id is not None:
        for event in ActivityEvent.objects.filter(
            room_id=room_id, verb=ActivityEvent.Verb.REPLANNED, changes__has_key=key
        ):
            change = event.changes[key]
            if change.get("version", 0) > base_version:
                found.append((change["version"], change["field"], event))
    moved = {}
    for _, name, event in sorted(found, key=lambda f: f[0]):
        moved[name] = event
    return moved


def refuse_domain_problems(instance, fields):
    """ValidationError (field -> message) when the row's model refuses its values of
    ``fields`` (``write_problems``, where a model has rules beyond its columns: a
    person named "TBD", a go-live before the close)."""
    check = getattr(instance, "write_problems", None)
    problems = check(fields) if check else None
    if problems:
        raise ValidationError(problems)


def versioned_create(*, actor, room, instance, extra_changes=None):
    """Save a new row of the room and log it with its initial values. Its text fields
    are cleaned first (mapsite.text: names and titles on one line, no control
    characters)."""
    model = type(instance)
    clean_text_fields(instance)
    refuse_domain_problems(instance, [f.name for f in model._meta.concrete_fields])
    with transaction.atomic():
        instance.save()
        changes = {}
        for field in model._meta.concrete_fields:
            if field.name in NOT_LOGGED:
                continue
            value = getattr(instance, field.name)
            shown = display_value(model, field.name, value)
            if shown:
                changes[field.name] = {
                    "label": field_label(model, field.name),
                    "from": "",
                    "to": shown,
                }
        changes.update(extra_changes or {})
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.CREATED,
            target=instance,
            changes=changes,
            target_version=instance.version,
        )
    return instance


def versioned_update(*, actor, room, queryset, pk, base_version, changes, m2m=None):
    """Apply ``changes`` (field -> value) and ``m2m`` (field -> ids) to one row.

    ``queryset`` is the caller's tenant-scoped queryset: a row outside it does not
    exist (``DoesNotExist``). Raises ``StaleWrite`` when a changed field moved
    since ``base_version``. Text values are cleaned first (mapsite.text: names and
    titles on one line, no control characters). Returns the updated instance.
    """
    model = queryset.model
    m2m = m2m or {}
    changes = clean_text_values(model, changes)
    try:
        with transaction.atomic():
            instance = queryset.select_for_update().get(pk=pk)
            effective = {k: v for k, v in changes.items() if getattr(instance, k) != v}
            effective_m2m = {k: set(v) for k, v in m2m.items() if _m2m_ids(instance, k) != set(v)}
            if base_version != instance.version:
                moved = _moved_since(instance, base_version)
                clashing = (set(effective) | set(effective_m2m)) & set(moved)
                if clashing:
                    raise StaleWrite(
                        instance,
                        _clashes(instance, clashing, moved, {**changes, **m2m}, actor=actor),
                    )
            if not effective and not effective_m2m:
                return instance
            candidate = copy.copy(instance)
            for key, value in effective.items():
                setattr(candidate, key, value)
            refuse_domain_problems(candidate, effective)
            before = {k: getattr(instance, k) for k in effective}
            before_m2m = {k: [str(o) for o in getattr(instance, k).all()] for k in effective_m2m}
            now = timezone.now()
            updated = queryset.filter(pk=pk, version=instance.version).update(
                **effective, version=F("version") + 1, updated_at=now
            )
            if updated != 1:  # the row lock makes this unreachable; refuse rather than guess
                raise StaleWrite(instance, {})
            for key, value in effective.items():
                setattr(instance, key, value)
            instance.version += 1
            instance.updated_at = now
            log = {
                key: {
                    "label": field_label(model, key),
                    "from": display_value(model, key, before[key]),
                    "to": display_value(model, key, value),
                }
                for key, value in effective.items()
                # Bookkeeping columns (not editable by people) stay out of the log.
                if model._meta.get_field(key).editable
            }
            for key, ids in effective_m2m.items():
                getattr(instance, key).set(ids)
                log[key] = {
                    "label": field_label(model, key),
                    "from": display_value(model, key, before_m2m[key]),
                    "to": display_value(model, key, [str(o) for o in getattr(instance, key).all()]),
                }
            room_touch(room.pk)
            activity_record(
                room=room,
                actor=actor,
                verb=ActivityEvent.Verb.UPDATED,
                target=instance,
                changes=log,
                target_version=instance.version,
            )
            return instance
    except StaleWrite as refused:
        # Outside the rolled-back transaction: the refused attempt stays on record.
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.CONFLICT,
            target=refused.instance,
            changes={
                k: {"label": c["label"], "from": c["theirs"], "to": c["mine"]}
                for k, c in refused.clashes.items()
            },
        )
        raise


def _same_actor(event, actor):
    """Whether ``event`` was made by ``actor`` (the same person, maybe another window)."""
    if actor.user is not None:
        return event.actor_user_id == actor.user.pk
    if actor.stakeholder is not None:
        return event.actor_ref == str(actor.stakeholder.pk)
    return False


def _clashes(instance, names, moved, wanted, *, actor):
    model = type(instance)
    result = {}
    for name in sorted(names):
        event = moved[name]
        current = getattr(instance, name)
        if hasattr(current, "all"):
            current = [str(o) for o in current.all()]
        mine = wanted[name]
        if isinstance(mine, (set, list, tuple)) and name in {
            f.name for f in model._meta.many_to_many
        }:
            related = model._meta.get_field(name).related_model
            mine = [str(o) for o in related.objects.filter(pk__in=mine)]
        result[name] = {
            "label": field_label(model, name),
            "theirs": display_value(model, name, current),
            "theirs_raw": current,
            "mine": display_value(model, name, mine),
            "mine_raw": wanted[name],
            "by": event.actor_label,
            # The writer's own earlier change, from another window or device.
            "by_you": _same_actor(event, actor),
            "at": event.created_at,
        }
    return result


def versioned_delete(*, actor, room, queryset, pk):
    """Delete one row of the room and log what it was."""
    with transaction.atomic():
        instance = queryset.select_for_update().get(pk=pk)
        label = str(instance)
        model = type(instance)
        snapshot = {}
        for field in model._meta.concrete_fields:
            if field.name in NOT_LOGGED:
                continue
            shown = display_value(model, field.name, getattr(instance, field.name))
            if shown:
                snapshot[field.name] = {
                    "label": field_label(model, field.name),
                    "from": shown,
                    "to": "",
                }
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.DELETED,
            target=instance,
            changes=snapshot,
            target_label=label,
        )
        instance.delete()
