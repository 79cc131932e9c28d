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

One scan per timezone finds the tasks of both levels (kept on the database server, in
room order); work then goes in batches of them (a batch touches few rooms, each once):
the number of SQL statements grows with batches, not with tasks, and what a claim
returns stays on the server (per-connection scratch tables) for the writes that follow:
the rooms' counts and revisions, the outbox rows, and one activity entry per room and
level naming its tasks. Notifications are enqueued only after the batch's transaction
commits.
"""

import datetime
import json
import logging
import uuid
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from plans.models import OverdueLevel, TaskStatus
from plans.services import room_schedule_refresh_due
from rooms.models import ActivityEvent, ActorKind, Outcome, Room, local_today
from rooms.versioning import forget_revisions
from stakeholders.models import DecisionRole

from .models import SLACK_CHANNEL, SLACK_CHANNEL_LABEL

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
    sql = _Sql()
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


class _Sql:
    """The few spots where PostgreSQL and SQLite spell the sweep's SQL differently."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.ops = connection.ops

    def date(self, value):
        return ("%s::date" if self.pg else "%s"), self.ops.adapt_datefield_value(value)

    def created_day(self):
        """The day a task was created, in its room's timezone (SQLite knows no zones: the
        UTC day before, so that no task dated on its own first day looks created late)."""
        if self.pg:
            return "(t.created_at AT TIME ZONE r.timezone)::date"
        return "date(t.created_at, '-1 day')"

    def datetime(self, value):
        return self.ops.adapt_datetimefield_value(value)

    def in_batch(self, column, bounds, was_flagged):
        """``column`` is the id of a candidate numbered within ``bounds`` (first, last]
        whose task was (``was_flagged``) or was not flagged for its due date when found."""
        picked = (
            f"SELECT id FROM {_CANDIDATES} WHERE n > %s AND n <= %s"
            f" AND {'' if was_flagged else 'NOT '}was_flagged"
        )
        if self.pg:
            # ARRAY(…): the claim probes the primary key for each id, whatever the
            # planner would guess of a temporary table without statistics.
            return f"{column} = ANY(ARRAY({picked}))", list(bounds)
        return f"{column} IN ({picked})", list(bounds)

    def create_scratch(self):
        """The per-connection tables: a timezone's candidates, numbered in room order,
        and what each batch claimed and the rooms it touched (emptied by each batch),
        so that the writes after the claim read them there. (On SQLite without column
        types: a declared type would turn some hexadecimal ids into numbers.)"""
        with connection.cursor() as c:
            for table, columns in _SCRATCH.items():
                names = ", ".join(f"{name} {kind if self.pg else ''}" for name, kind in columns)
                c.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {table} ({names})")
            c.execute(
                f"CREATE TEMPORARY TABLE IF NOT EXISTS {_CANDIDATES} (n INTEGER PRIMARY KEY, "
                + ("id uuid, was_flagged boolean)" if self.pg else "id, was_flagged)")
            )

    def empty_scratch(self, c):
        # TRUNCATE: a deleted row of a temporary table would stay until a VACUUM.
        for table in _SCRATCH:
            c.execute(f"{'TRUNCATE' if self.pg else 'DELETE FROM'} {table}")

    def keep(self, c, table, statement, params=(), *, extra=()):
        """Run ``statement`` (an UPDATE … RETURNING the first columns of ``table``) and
        keep what it returns in that scratch table, followed by the constants ``extra``:
        on PostgreSQL in the same statement, on SQLite (no UPDATE in a WITH) through one
        JSON parameter. Returns the number of rows kept."""
        columns = [name for name, _ in _SCRATCH[table]]
        names = ", ".join(columns)
        if self.pg:
            constants = "".join(f", {'true' if value else 'false'}" for value in extra)
            c.execute(
                f"WITH kept AS ({statement}) INSERT INTO {table} ({names})"
                f" SELECT *{constants} FROM kept",
                params,
            )
            return c.rowcount
        c.execute(statement, params)
        rows = [[*row, *extra] for row in c.fetchall()]
        if rows:
            picks = ", ".join(f"json_extract(value, '$[{i}]')" for i in range(len(columns)))
            c.execute(
                f"INSERT INTO {table} ({names}) SELECT {picks} FROM json_each(%s)",
                [json.dumps(rows, default=str)],
            )
        return len(rows)

    def uuid_text(self, column):
        """A UUID column as text in Python's str(uuid) form (as the rest of the code
        writes target ids)."""
        if self.pg:
            return f"CAST({column} AS TEXT)"
        return (
            f"lower(substr({column},1,8)||'-'||substr({column},9,4)||'-'||"
            f"substr({column},13,4)||'-'||substr({column},17,4)||'-'||substr({column},21))"
        )

    def days_between(self, day_sql, column):
        if self.pg:
            return f"({day_sql} - {column})"
        return f"CAST(julianday({day_sql}) - julianday({column}) AS INTEGER)"

    @property
    def empty_json(self):
        return "'{}'::jsonb" if self.pg else "'{}'"

    def greatest(self, *terms):
        return ("GREATEST" if self.pg else "MAX") + f"({', '.join(terms)})"

    def json_object(self, *terms):
        return ("json_build_object" if self.pg else "json_object") + f"({', '.join(terms)})"

    def json_object_agg(self, key, value):
        """A JSON object of ``key``: ``value`` over a group, for a jsonb column (built as
        json and converted once: a third of the time of building jsonb value by value)."""
        if self.pg:
            return f"CAST(json_object_agg({key}, {value}) AS jsonb)"
        return f"json_group_object({key}, {value})"


# A task's level for a day: 7 when its due date is on or before the +7 cutoff, else 3
# (the candidates are the open tasks on or before the +3 cutoff).
FLAG, ALERT = int(OverdueLevel.FLAGGED), int(OverdueLevel.ALERTED)
_TARGET = f"(CASE WHEN t.due_date <= {{cutoff7}} THEN {ALERT} ELSE {FLAG} END)"
_NOT_THERE = (
    "NOT (t.overdue_for IS NOT NULL AND t.overdue_for = t.due_date AND t.overdue_level >= "
    + _TARGET
    + ")"
)
_WAS_FLAGGED = (
    f"(t.overdue_for IS NOT NULL AND t.overdue_for = t.due_date AND t.overdue_level >= {FLAG})"
)
# The scratch tables: a timezone's candidates (kept across its batches), and what a
# batch's claim returned (each task's new level and whether it was flagged before) and
# the rooms it touched as they are after it (column, PostgreSQL type).
_CANDIDATES = "alerts_sweep_candidates"
_CLAIMED = "alerts_sweep_claimed"
_ROOMS = "alerts_sweep_rooms"
_SCRATCH = {
    _CLAIMED: (
        ("id", "uuid"),
        ("org_id", "uuid"),
        ("room_id", "uuid"),
        ("due_date", "date"),
        ("owner_id", "uuid"),
        ("title", "text"),
        ("overdue_level", "smallint"),
        ("was_flagged", "boolean"),
    ),
    _ROOMS: (("id", "uuid"), ("revision", "bigint")),
}
_RETURNED = ", ".join(name for name, _ in _SCRATCH[_CLAIMED][:-1])
# Each level a claimed task crossed: +3 unless it was flagged before (a task found 9
# days late after downtime crosses both), +7 when it reached it.
_CROSSED = (
    f"(SELECT t.*, {FLAG} AS crossed FROM {_CLAIMED} t WHERE NOT t.was_flagged"
    f" UNION ALL SELECT t.*, {ALERT} AS crossed FROM {_CLAIMED} t"
    f" WHERE t.overdue_level = {ALERT})"
)


def _cutoffs(sql, day):
    """The SQL and parameters of the +3 and +7 cutoffs on ``day``."""
    return [sql.date(day - datetime.timedelta(days=int(level))) for level in OverdueLevel]


def _find_candidates(sql, tz_name, day):
    """Number the open tasks of open rooms in ``tz_name`` that are 3 or more days late on
    ``day`` and not yet at their level (+3, or +7) for their current due date (never
    work that was already late when it was created), in room order, in the candidates
    table, with whether each was flagged before; returns how many there are."""
    (cutoff3_sql, cutoff3), (cutoff7_sql, cutoff7) = _cutoffs(sql, day)
    with connection.cursor() as c:
        c.execute(f"{'TRUNCATE' if sql.pg else 'DELETE FROM'} {_CANDIDATES}")
        c.execute(
            f"""
            INSERT INTO {_CANDIDATES} (n, id, was_flagged)
            SELECT ROW_NUMBER() OVER (ORDER BY t.room_id, t.id), t.id, {_WAS_FLAGGED}
            FROM plans_task t JOIN rooms_room r ON r.id = t.room_id
            WHERE r.timezone = %s AND r.outcome = %s AND t.status <> %s
              AND t.due_date <= {cutoff3_sql} AND {_NOT_THERE.format(cutoff7=cutoff7_sql)}
              AND t.due_date >= {sql.created_day()}
            """,
            [tz_name, Outcome.OPEN, TaskStatus.DONE, cutoff3, cutoff7],
        )
        return c.rowcount


def _sweep_batch(sql, bounds, day, result, keep_details):
    """Claim the candidates numbered within ``bounds`` that still crossed +3 or +7 on
    ``day`` and write everything that follows, set-based, in one transaction:

    1. claim: a conditional UPDATE of the tasks to their level (rows a concurrent sweep
       took first no longer match); what it returns goes to a per-connection scratch
       table, on PostgreSQL without leaving the server; the tasks that were flagged
       when found and those that were not are claimed apart (each re-checked), so room
       counts move by delta and a task found 9 days late crosses both levels;
    2. the touched rooms: revision moved on once, flagged/alerted counts moved by the
       claims;
    3. notifications: one INSERT … SELECT over the levels crossed and their recipients,
       each unique per (task, level, due date, channel, recipient), ON CONFLICT DO
       NOTHING: a task whose date moved away and back is claimed again but nobody is
       told twice (the words are written at delivery time, alerts.messages);
    4. one activity entry per touched room and level, naming its tasks."""
    (cutoff3_sql, cutoff3), (cutoff7_sql, cutoff7) = _cutoffs(sql, day)
    target = _TARGET.format(cutoff7=cutoff7_sql)
    with transaction.atomic(), connection.cursor() as c:
        sql.empty_scratch(c)
        claimed = 0
        for was_flagged in (True, False):
            in_batch, bounds_params = sql.in_batch("t.id", bounds, was_flagged)
            flagged = _WAS_FLAGGED if was_flagged else f"NOT {_WAS_FLAGGED}"
            claimed += sql.keep(
                c,
                _CLAIMED,
                f"""
                UPDATE plans_task AS t SET overdue_level = {target}, overdue_for = t.due_date
                WHERE {in_batch} AND t.status <> %s AND t.due_date <= {cutoff3_sql}
                  AND {_NOT_THERE.format(cutoff7=cutoff7_sql)} AND {flagged}
                RETURNING {_RETURNED}
                """,
                [cutoff7, *bounds_params, TaskStatus.DONE, cutoff3, cutoff7],
                extra=[was_flagged],
            )
        if not claimed:
            return
        result.batches += 1
        stamp = sql.datetime(timezone.now())
        rooms = _move_rooms(c, sql)
        result.notifications += _insert_notifications(c, sql, stamp)
        _insert_activity(c, sql, day, stamp)
        c.execute(f"SELECT crossed, COUNT(*) FROM {_CROSSED} t GROUP BY crossed")
        for level, count in c.fetchall():
            if level == OverdueLevel.ALERTED:
                result.alerted += count
            else:
                result.flagged += count
        if keep_details:
            c.execute(
                f"SELECT t.crossed, t.title, r.name, t.due_date FROM {_CROSSED} t"
                " JOIN rooms_room r ON r.id = t.room_id"
            )
            result.details += [
                (OverdueLevel(level), title, name, (day - _date(due)).days)
                for level, title, name, due in c
            ]
    transaction.on_commit(lambda: forget_revisions(rooms))


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _move_rooms(c, sql):
    """Move each touched room's revision on and its flagged/alerted counts by what the
    claims changed (never below zero), in one UPDATE whose rows (id, new revision)
    go to the rooms scratch table for the writes that follow; returns the rooms' ids."""
    sql.keep(
        c,
        _ROOMS,
        f"""
        UPDATE rooms_room SET revision = revision + 1,
            flagged_count = {sql.greatest("flagged_count + d.f", "0")},
            alerted_count = {sql.greatest("alerted_count + d.a", "0")}
        FROM (
            SELECT room_id,
                SUM(CASE WHEN was_flagged THEN -1 WHEN overdue_level = {FLAG} THEN 1 ELSE 0 END)
                    AS f,
                SUM(CASE WHEN overdue_level = {ALERT} THEN 1 ELSE 0 END) AS a
            FROM {_CLAIMED} GROUP BY room_id
        ) AS d
        WHERE rooms_room.id = d.room_id
        RETURNING rooms_room.id, rooms_room.revision
        """,
    )
    c.execute(f"SELECT id FROM {_ROOMS}")
    return [_uuid(value) for (value,) in c.fetchall()]


def _insert_notifications(c, sql, stamp):
    """One outbox row per (task, level crossed, due date, channel, recipient),
    set-based."""
    columns = (
        "org_id, room_id, task_id, level, due_date, channel, recipient, recipient_label, "
        "payload, status, attempts, next_attempt_at, last_error, created_at"
    )

    def select(channel, recipient, label):
        return (
            f"SELECT t.org_id, t.room_id, t.id, t.crossed, t.due_date, '{channel}', "
            f"{recipient}, {label}, {sql.empty_json}, 'pending', 0, %s, '', %s FROM {_CROSSED} t"
        )

    # Slack: one post per task and level to the team's channel (the organisation's
    # incoming webhook), naming the room's owner (and at +7 the managers) when it is sent.
    parts = [select("slack", f"'{SLACK_CHANNEL}'", f"'{SLACK_CHANNEL_LABEL}'")]
    # At +7, email to the buyer's champion(s) and to the task's owner (once per address).
    email, label = "lower(s.email)", "substr(s.name, 1, 250)"
    parts.append(
        select("email", email, label)
        + f" JOIN stakeholders_stakeholder s ON t.crossed = {ALERT} AND s.room_id = t.room_id"
        f" AND s.org_id = t.org_id AND s.role = '{DecisionRole.CHAMPION}' AND s.email <> ''"
    )
    parts.append(
        select("email", email, label)
        + f" JOIN stakeholders_stakeholder s ON t.crossed = {ALERT} AND s.id = t.owner_id"
        " AND s.email <> ''"
    )
    c.execute(
        # (WHERE true: SQLite reads "ON CONFLICT" after a bare FROM as a join.)
        f"INSERT INTO alerts_notification ({columns}) SELECT * FROM ("
        + " UNION ALL ".join(parts)
        + ") AS n WHERE true ON CONFLICT DO NOTHING",
        [stamp, stamp] * len(parts),
    )
    return max(c.rowcount, 0)


def _insert_activity(c, sql, day, stamp):
    """One entry per touched room and level crossed, naming each of its tasks and how
    late it is (its changes keyed by task id, see ActivityEvent.PER_TASK_VERBS): a
    catch-up does not flood a room's activity, and webhooks still make one event per
    task."""
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
    c.execute(
        f"""
        INSERT INTO rooms_activityevent (org_id, room_id, created_at, actor_kind,
            actor_user_id, actor_ref, actor_label, verb, target_type, target_id,
            target_label, target_version, changes, room_revision)
        SELECT t.org_id, t.room_id, %s, %s, NULL, '', 'mapsite',
            CASE WHEN t.crossed = {ALERT} THEN %s ELSE %s END, 'task',
            CASE WHEN COUNT(*) = 1 THEN MIN({task_id}) ELSE '' END,
            CASE WHEN COUNT(*) = 1 THEN MIN(substr(t.title, 1, 250))
                 ELSE CAST(COUNT(*) AS TEXT) || ' tasks' END,
            NULL, {sql.json_object_agg(task_id, late)}, r.revision
        FROM {_CROSSED} t JOIN {_ROOMS} r ON r.id = t.room_id
        GROUP BY t.org_id, t.room_id, r.revision, t.crossed
        ORDER BY t.room_id, t.crossed
        """,
        [
            stamp,
            ActorKind.SYSTEM,
            ActivityEvent.Verb.ALERTED,
            ActivityEvent.Verb.FLAGGED,
            day_param,
            day_param,
        ],
    )


def _enqueue_delivery():
    from .tasks import deliver_due

    try:
        deliver_due.delay()
    except Exception:  # broker unreachable: beat's next deliver_due run sends them
        log.exception("Could not queue delivery; the next scheduled run will send it")
