"""The overdue sweep: flag tasks at +3 days, alert at +7, each once.

The sweep decides from database state alone: every open task whose due date is 3 (7)
or more calendar days behind today *in its room's timezone* and that has not reached
that level for its current due date. So a beat that was down for two days catches up
on its next run, and sweeps running at the same time do not double anything:

- tasks are claimed with a conditional UPDATE (only rows still below the level for
  their current due date change): the task carries the level it reached and the due
  date it reached it for, so moving the date starts afresh;
- a Notification is unique per (task, level, due date, channel, recipient), inserted
  with ON CONFLICT DO NOTHING: a task moved away from a date and back is claimed again
  (and its room's activity says so) but nobody is told twice;
- delivery claims each notification with a conditional UPDATE (alerts.delivery).

What counts as crossing a level is plans' rule (``Task.objects.crossing``, with
``plans.models.OverdueLevel`` and ``reached``): the sweep compiles its scan and its
claim from that queryset, reads every table and column name it writes by hand from
the models (alerts.sweep_sql.Names), and writes its activity entries through
``rooms.activity_log.activity_record_many``.

One scan per timezone finds the tasks of both levels (kept on the database server, in
room order); work then goes in batches of them (a batch touches few rooms, each once):
the number of SQL statements grows with batches, not with tasks, and what a claim
returns stays on the server (per-connection scratch tables) for the writes that follow:
the rooms' counts and revisions, the outbox rows, and one activity entry per room and
level naming its tasks. Notifications are enqueued only after the batch's transaction
commits.
"""

import datetime
import logging
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.db.models import BooleanField, ExpressionWrapper, Window
from django.db.models.functions import RowNumber, TruncDate
from django.utils import timezone

from plans.models import OverdueLevel, Task, reached
from plans.services import room_schedule_refresh_due
from rooms.activity_log import activity_record_many
from rooms.actors import Actor
from rooms.models import ActivityEvent, Outcome, Room, local_today, zone
from rooms.revision import forget_revisions
from stakeholders.models import DecisionRole, Stakeholder

from .models import SLACK_CHANNEL, SLACK_CHANNEL_LABEL, Notification
from .sweep_sql import CANDIDATES, CLAIMED, ROOMS, SCRATCH, Dialect, Names, compiled, compiled_where

BATCH_SIZE = 5000
log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    flagged: int = 0
    alerted: int = 0
    notifications: int = 0
    batches: int = 0
    projected: int = 0  # rooms whose schedule was projected again for a new day
    # With ``keep_details``: (level, task title, room name, days late) per level crossed.
    details: list = field(default_factory=list)

    def summary(self):
        return (
            f"{self.flagged} task(s) flagged, {self.alerted} alerted, "
            f"{self.notifications} notification(s) queued"
        )


def sweep_overdue(*, today=None, now=None, batch_size=BATCH_SIZE, keep_details=True):
    """Flag and alert every task that crossed +3 / +7. ``today`` (a date) overrides the
    date in every timezone (operators and tests); otherwise each room's own date at
    ``now`` (default: the clock)."""
    result = SweepResult()
    now = now or timezone.now()
    sql = Dialect()
    sql.create_scratch()
    zones = (
        Room.objects.filter(outcome=Outcome.OPEN)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    for tz_name in list(zones):
        day = today or local_today(tz_name, now)
        # One scan finds the candidates of both levels (kept on the database server);
        # each batch claims its share, re-checking the condition (a concurrent sweep
        # may have taken some), so a room is touched once per batch, not once per level.
        found = _find_candidates(sql, tz_name, day)
        for start in range(0, found, batch_size):
            _sweep_batch(sql, (start, start + batch_size), day, result, keep_details)
    if result.notifications:
        # Every batch has committed: one message wakes a worker to send them all.
        transaction.on_commit(_enqueue_delivery)
    # The day moved on for some rooms: late work now finishes today at the earliest.
    result.projected = room_schedule_refresh_due(now=now, today=today)
    return result


FLAG, ALERT = int(OverdueLevel.FLAGGED), int(OverdueLevel.ALERTED)
# Each level a claimed task crossed: +3 unless it was flagged before (a task found 9
# days late after downtime crosses both), +7 when it reached it.
_CROSSED = (
    f"(SELECT t.*, {FLAG} AS crossed FROM {CLAIMED} t WHERE NOT t.was_flagged"
    f" UNION ALL SELECT t.*, {ALERT} AS crossed FROM {CLAIMED} t"
    f" WHERE t.overdue_level = {ALERT})"
)


def _find_candidates(sql, tz_name, day):
    """Number the tasks of open rooms in ``tz_name`` that crossed a level on ``day`` and
    have not reached it for their current due date (``Task.objects.crossing``; never
    work that was already late when it was created), in room order, in the candidates
    table, with whether each was flagged before; returns how many there are."""
    candidates = (
        Task.objects.crossing(day)
        .filter(
            room__timezone=tz_name,
            room__outcome=Outcome.OPEN,
            due_date__gte=TruncDate("created_at", tzinfo=zone(tz_name)),
        )
        .order_by()
        .annotate(
            n=Window(RowNumber(), order_by=["room_id", "id"]),
            was_flagged=ExpressionWrapper(reached(OverdueLevel.FLAGGED), BooleanField()),
        )
        .values_list("n", "id", "was_flagged")
    )
    select, params = candidates.query.sql_with_params()
    with connection.cursor() as c:
        sql.empty(c, CANDIDATES)
        c.execute(f"INSERT INTO {CANDIDATES} (n, id, was_flagged) {select}", params)
        return c.rowcount


def _sweep_batch(sql, bounds, day, result, keep_details):
    """Claim the candidates numbered within ``bounds`` that still crossed +3 or +7 on
    ``day`` and write everything that follows, set-based, in one transaction:

    1. claim: a conditional UPDATE of the tasks to their level (rows a concurrent sweep
       took first no longer match ``Task.objects.crossing``); what it returns goes to a
       per-connection scratch table, on PostgreSQL without leaving the server; the tasks
       that were flagged when found and those that were not are claimed apart (each
       re-checked), so room counts move by delta and a task found 9 days late crosses
       both levels;
    2. the touched rooms: revision moved on once, flagged/alerted counts moved by the
       claims;
    3. notifications: one INSERT … SELECT over the levels crossed and their recipients,
       each unique per (task, level, due date, channel, recipient), ON CONFLICT DO
       NOTHING: a task whose date moved away and back is claimed again but nobody is
       told twice (the words are written at delivery time, alerts.messages);
    4. one activity entry per touched room and level, naming its tasks
       (rooms.activity_log.activity_record_many)."""
    task = Names(Task)
    level, level_params = compiled(Task, OverdueLevel.on(day))
    returned = ", ".join(
        f"{task.table}.{getattr(task, name)}"
        for name in ("id", "org", "room", "due_date", "owner", "title", "overdue_level")
    )
    with transaction.atomic(), connection.cursor() as c:
        sql.empty(c, *SCRATCH)
        claimed = 0
        for was_flagged in (True, False):
            in_batch, bounds_params = sql.in_batch(f"{task.table}.{task.id}", bounds, was_flagged)
            flagged = reached(OverdueLevel.FLAGGED)
            where, where_params = compiled_where(
                Task.objects.crossing(day).filter(flagged if was_flagged else ~flagged)
            )
            claimed += sql.keep(
                c,
                CLAIMED,
                f"""
                UPDATE {task.table} SET {task.overdue_level} = {level},
                    {task.overdue_for} = {task.due_date}
                WHERE {in_batch} AND {where}
                RETURNING {returned}
                """,
                [*level_params, *bounds_params, *where_params],
                extra=[was_flagged],
            )
        if not claimed:
            return
        result.batches += 1
        stamp = sql.datetime(timezone.now())
        rooms = _move_rooms(c, sql)
        result.notifications += _insert_notifications(c, sql, stamp)
        _record_activity(sql, day, stamp, rooms)
        c.execute(f"SELECT crossed, COUNT(*) FROM {_CROSSED} t GROUP BY crossed")
        for crossed, count in c.fetchall():
            if crossed == OverdueLevel.ALERTED:
                result.alerted += count
            else:
                result.flagged += count
        if keep_details:
            room = Names(Room, "r")
            c.execute(
                f"SELECT t.crossed, t.title, {room.name}, t.due_date FROM {_CROSSED} t"
                f" JOIN {room.table} r ON {room.id} = t.room_id"
            )
            result.details += [
                (OverdueLevel(crossed), title, name, (day - _date(due)).days)
                for crossed, title, name, due in c
            ]
    transaction.on_commit(lambda: forget_revisions(rooms))


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _move_rooms(c, sql):
    """Move each touched room's revision on and its flagged/alerted counts by what the
    claims changed (never below zero), in one UPDATE whose rows (id, new revision)
    go to the rooms scratch table for the writes that follow; returns the rooms' ids.
    (The counts are what plans' recount finds: flagged below +7, alerted at +7.)"""
    room = Names(Room)
    revision, flagged, alerted = room.revision, room.flagged_count, room.alerted_count
    sql.keep(
        c,
        ROOMS,
        f"""
        UPDATE {room.table} SET {revision} = {revision} + 1,
            {flagged} = {sql.greatest(f"{flagged} + d.f", "0")},
            {alerted} = {sql.greatest(f"{alerted} + d.a", "0")}
        FROM (
            SELECT room_id,
                SUM(CASE WHEN was_flagged THEN -1 WHEN overdue_level = {FLAG} THEN 1 ELSE 0 END)
                    AS f,
                SUM(CASE WHEN overdue_level = {ALERT} THEN 1 ELSE 0 END) AS a
            FROM {CLAIMED} GROUP BY room_id
        ) AS d
        WHERE {room.table}.{room.id} = d.room_id
        RETURNING {room.table}.{room.id}, {room.table}.{revision}
        """,
    )
    c.execute(f"SELECT id FROM {ROOMS}")
    return [_uuid(value) for (value,) in c.fetchall()]


def _insert_notifications(c, sql, stamp):
    """One outbox row per (task, level crossed, due date, channel, recipient),
    set-based."""
    outbox = Names(Notification)
    columns = outbox.columns(
        "org", "room", "task", "level", "due_date", "channel", "recipient", "recipient_label",
        "payload", "status", "attempts", "next_attempt_at", "last_error", "created_at",
    )  # fmt: skip

    def select(channel, recipient, label):
        return (
            f"SELECT t.org_id, t.room_id, t.id, t.crossed, t.due_date, '{channel}', "
            f"{recipient}, {label}, {sql.empty_json}, 'pending', 0, %s, '', %s FROM {_CROSSED} t"
        )

    # Slack: one post per task and level to the team's channel (the organisation's
    # incoming webhook), naming the room's owner (and at +7 the managers) when it is sent.
    parts = [select("slack", f"'{SLACK_CHANNEL}'", f"'{SLACK_CHANNEL_LABEL}'")]
    # At +7, email to the buyer's champion(s) and to the task's owner (once per address).
    s = Names(Stakeholder, "s")
    email, label = f"lower({s.email})", f"substr({s.name}, 1, 250)"
    parts.append(
        select("email", email, label)
        + f" JOIN {s.table} s ON t.crossed = {ALERT} AND {s.room} = t.room_id"
        f" AND {s.org} = t.org_id AND {s.role} = '{DecisionRole.CHAMPION}' AND {s.email} <> ''"
    )
    parts.append(
        select("email", email, label)
        + f" JOIN {s.table} s ON t.crossed = {ALERT} AND {s.id} = t.owner_id"
        f" AND {s.email} <> ''"
    )
    c.execute(
        # (WHERE true: SQLite reads "ON CONFLICT" after a bare FROM as a join.)
        f"INSERT INTO {outbox.table} ({columns}) SELECT * FROM ("
        + " UNION ALL ".join(parts)
        + ") AS n WHERE true ON CONFLICT DO NOTHING",
        [stamp, stamp] * len(parts),
    )
    return max(c.rowcount, 0)


def _record_activity(sql, day, stamp, rooms):
    """One entry per touched room and level crossed, naming each of its tasks and how
    late it is (its changes keyed by task id, see ActivityEvent.PER_TASK_VERBS): a
    catch-up does not flood a room's activity, and webhooks still make one event per
    task. Written by the system actor, at the revision the room moved to."""
    day_sql, day_param = sql.date(day)
    days = sql.days_between(day_sql, "t.due_date")
    task_id = sql.uuid_text("t.id")
    late = sql.json_object(
        "'label'",
        "substr(t.title, 1, 250)",
        "'to'",
        f"CAST({days} AS TEXT) || ' days late'",
        "'days'",
        days,
    )
    system = Actor.system()
    activity_record_many(
        {
            "org": "t.org_id",
            "room": "t.room_id",
            "created_at": "%s",
            "actor_kind": "%s",
            "actor_ref": "''",
            "actor_label": "%s",
            "verb": f"CASE WHEN t.crossed = {ALERT} THEN %s ELSE %s END",
            "target_type": "%s",
            "target_id": f"CASE WHEN COUNT(*) = 1 THEN MIN({task_id}) ELSE '' END",
            "target_label": "CASE WHEN COUNT(*) = 1 THEN MIN(substr(t.title, 1, 250))"
            " ELSE CAST(COUNT(*) AS TEXT) || ' tasks' END",
            "changes": sql.json_object_agg(task_id, late),
            "room_revision": "r.revision",
        },
        f"FROM {_CROSSED} t JOIN {ROOMS} r ON r.id = t.room_id"
        " GROUP BY t.org_id, t.room_id, r.revision, t.crossed ORDER BY t.room_id, t.crossed",
        [
            stamp,
            system.kind,
            system.label,
            ActivityEvent.Verb.ALERTED,
            ActivityEvent.Verb.FLAGGED,
            Task._meta.model_name,
            day_param,
            day_param,
        ],
        room_ids=rooms,
    )


def _enqueue_delivery():
    from .tasks import deliver_due

    try:
        deliver_due.delay()
    except Exception:  # broker unreachable: beat's next deliver_due run sends them
        log.exception("Could not queue delivery; the next scheduled run will send it")
