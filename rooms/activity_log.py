"""Recording a change in the room's activity log: one ActivityEvent with the actor,
the target, and each field's label, before and after as people read them.
"""

import datetime
from decimal import Decimal

from django.db import connection, models, transaction

from mapsite.text import single_line

from . import render_cache
from .models import ActivityEvent, Room

# Columns every row has that say nothing to a person reading the activity log.
NOT_LOGGED = frozenset(
    {"id", "org", "room", "plan", "version", "created_at", "updated_at", "order"}
)


def field_label(model, name):
    return str(model._meta.get_field(name).verbose_name).capitalize()


def display_value(model, name, value):
    """A value as people read it in the activity log and conflict cards."""
    if value is None or value == "":
        return ""
    field = model._meta.get_field(name)
    if getattr(field, "choices", None) and not isinstance(field, models.ForeignKey):
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="minutes")
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        return f"{value:,.2f}"
    if isinstance(value, (list, tuple, set, frozenset)):
        return ", ".join(sorted(str(v) for v in value))
    return str(value)


def _current_revision(room_id):
    return Room.objects.filter(pk=room_id).values_list("revision", flat=True).first() or 0


def activity_record(
    *,
    room,
    actor,
    verb,
    target,
    changes=None,
    target_version=None,
    target_label=None,
    actor_label=None,
):
    # The entry is on the room page (and may be all that changed): kept renders of the
    # room are stale once it is committed.
    transaction.on_commit(lambda: render_cache.forget([room.pk]))
    return ActivityEvent.objects.create(
        org_id=room.org_id,
        room=room,
        actor_kind=actor.kind,
        actor_user=actor.user,
        actor_ref=str(actor.stakeholder.pk) if actor.stakeholder is not None else "",
        actor_label=single_line(actor_label or actor.label)[:250],
        actor_window=actor.window,
        verb=verb,
        target_type=target._meta.model_name,
        target_id=str(target.pk),
        target_label=single_line(target_label or str(target))[:250],
        target_version=target_version,
        changes=changes or {},
        room_revision=_current_revision(room.pk),
    )


def activity_record_many(columns, source, params=(), *, room_ids):
    """Write many activity entries in one INSERT … SELECT, for a writer that works on
    thousands of rows at a time (the overdue sweep) where ``activity_record`` would cost
    a round trip each. ``columns`` maps ActivityEvent fields to SQL expressions over
    ``source`` (the SELECT's FROM …), ``params`` fill both in that order; every field the
    database needs a value for must be given (a missing one is refused here, not at
    insert). Each entry's ``room_revision`` is the revision the writer moved its room
    to, in the same transaction. Like ``activity_record``, kept renders of ``room_ids``
    are dropped on commit; webhooks read these entries from the log on their next run.
    Returns the number of entries written."""
    meta = ActivityEvent._meta
    required = {
        f.name
        for f in meta.concrete_fields
        if not f.primary_key and not f.null and f.db_default is models.NOT_PROVIDED
    }
    if missing := required - set(columns):
        raise ValueError(f"activity entries need {', '.join(sorted(missing))}")
    names = ", ".join(meta.get_field(name).column for name in columns)
    with connection.cursor() as c:
        c.execute(
            f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({names})"
            f" SELECT {', '.join(columns.values())} {source}",
            params,
        )
        written = c.rowcount
    room_ids = list(room_ids)
    transaction.on_commit(lambda: render_cache.forget(room_ids))
    return written
