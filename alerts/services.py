"""The overdue sweep: flag tasks at +3 days, alert at +7, each once.

The sweep decides from database state alone: every open task whose due date is 3 (7)
or more calendar days behind today *in its room's timezone* and that has not reached
that level for its current due date. So a beat that was down for two days catches up
on its next run, and sweeps running at the same time do not double anything:

- tasks are claimed with a conditional UPDATE (only rows still below the level for
  their current due date change);
- an OverdueFlag is unique per (task, level, due date) and a Notification per
  (task, level, due date, channel, recipient), inserted with ON CONFLICT DO NOTHING;
- delivery claims each notification with a conditional UPDATE (alerts.delivery).

Work goes in batches of tasks: the number of SQL statements grows with batches, not
with tasks. Notifications are enqueued only after the batch's transaction commits.
"""

import datetime
import json
import logging
import uuid
import zoneinfo
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role
from plans.models import TaskStatus
from rooms.models import ActivityEvent, ActorKind, Outcome, Room
from rooms.services import forget_revisions
from stakeholders.models import DecisionRole

from .models import Level

BATCH_SIZE = 5000
log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    flagged: list = field(default_factory=list)  # (task title, room name, days late)
    alerted: list = field(default_factory=list)
    notifications: int = 0
    batches: int = 0

    def summary(self):
        return (
            f"{len(self.flagged)} task(s) flagged, {len(self.alerted)} alerted, "
            f"{self.notifications} notification(s) queued"
        )


def local_today(tz_name, now=None):
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = datetime.UTC
    return (now or timezone.now()).astimezone(tz).date()


def sweep_overdue(*, today=None, now=None, batch_size=BATCH_SIZE, keep_details=True):
    """Flag and alert every task that crossed +3 / +7. ``today`` (a date) overrides the
    date in every timezone (operators and tests); otherwise each room's own date at
    ``now`` (default: the clock)."""
    result = SweepResult()
    now = now or timezone.now()
    zones = (
        Room.objects.filter(outcome=Outcome.OPEN)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    for tz_name in list(zones):
        day = today or local_today(tz_name, now)
        for level in (Level.FLAGGED, Level.ALERTED):
            # One scan finds the candidates; each batch claims its share by primary
            # key, re-checking the condition (a concurrent sweep may have taken some).
            ids = _candidate_ids(tz_name, day, level)
            for start in range(0, len(ids), batch_size):
                _sweep_batch(ids[start : start + batch_size], day, level, result, keep_details)
    if result.notifications:
        # Every batch has committed: one message wakes a worker to send them all.
        transaction.on_commit(_enqueue_delivery)
    return result


class _Sql:
    """The few spots where PostgreSQL and SQLite spell the sweep's SQL differently."""

    def __init__(self):
        self.pg = connection.vendor == "postgresql"
        self.ops = connection.ops

    def date(self, value):
        return ("%s::date" if self.pg else "%s"), self.ops.adapt_datefield_value(value)

    def datetime(self, value):
        return self.ops.adapt_datetimefield_value(value)

    def ids(self, column, ids):
        """``column`` is one of ``ids`` (as the database returned them), one parameter."""
        if self.pg:
            return f"{column} = ANY(%s)", list(ids)
        return f"{column} IN (SELECT value FROM json_each(%s))", json.dumps(list(ids))

    def rows(self, columns, rows):
        """A derived table of ``rows`` (tuples as the database returned them) with
        ``columns`` ((name, PostgreSQL type), …), passed as one parameter per column
        (PostgreSQL arrays) or one JSON document (SQLite): the sweep writes from what
        its claim returned instead of reading the tasks again."""
        names = ", ".join(name for name, _ in columns)
        if self.pg:
            arrays = ", ".join(f"%s::{kind}[]" for _, kind in columns)
            params = [[row[i] for row in rows] for i in range(len(columns))]
            return f"unnest({arrays}) AS t({names})", params
        picks = ", ".join(
            f"json_extract(value, '$[{i}]') AS {name}" for i, (name, _) in enumerate(columns)
        )
        return f"(SELECT {picks} FROM json_each(%s)) AS t", [json.dumps(rows, default=str)]

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

    def greatest(self, *terms):
        return ("GREATEST" if self.pg else "MAX") + f"({', '.join(terms)})"

    @property
    def empty_json(self):
        return "'{}'::jsonb" if self.pg else "'{}'"

    def json_late(self, days_sql):
        build = "jsonb_build_object" if self.pg else "json_object"
        return (
            f"{build}('late', {build}('label', 'Days late', 'from', '', "
            f"'to', CAST({days_sql} AS TEXT)))"
        )


_NOT_THERE = (
    "NOT (t.overdue_for IS NOT NULL AND t.overdue_for = t.due_date AND t.overdue_level >= %s)"
)
_WAS_FLAGGED = "(t.overdue_for IS NOT NULL AND t.overdue_for = t.due_date AND t.overdue_level >= 3)"
# What a claim returns and the writes after it read: (column, PostgreSQL type).
_CLAIMED = (
    ("id", "uuid"),
    ("org_id", "uuid"),
    ("room_id", "uuid"),
    ("due_date", "date"),
    ("owner_id", "uuid"),
    ("title", "text"),
)


def _candidate_ids(tz_name, day, level):
    """Open tasks of open rooms in ``tz_name`` that are ``level`` days late on ``day``
    and not yet at that level for their current due date (ids as the database has them)."""
    sql = _Sql()
    cutoff_sql, cutoff = sql.date(day - datetime.timedelta(days=int(level)))
    with connection.cursor() as c:
        c.execute(
            f"""
            SELECT t.id FROM plans_task t JOIN rooms_room r ON r.id = t.room_id
            WHERE r.timezone = %s AND r.outcome = %s AND t.status <> %s
              AND t.due_date <= {cutoff_sql} AND {_NOT_THERE}
            ORDER BY t.id
            """,
            [tz_name, Outcome.OPEN, TaskStatus.DONE, cutoff, int(level)],
        )
        return [row[0] for row in c.fetchall()]


def _sweep_batch(ids, day, level, result, keep_details):
    """Claim the tasks ``ids`` that still crossed ``level`` on ``day`` and write
    everything that follows, set-based, in one transaction:

    1. claim: a conditional UPDATE of the tasks (rows a concurrent sweep took first no
       longer match), returning what the writes below need; at +7 the tasks that were
       flagged and those that were not are claimed apart, so room counts move by delta;
    2. flags: INSERT … SELECT … ON CONFLICT DO NOTHING, returning the tasks whose flag
       for this due date is new (a due date moved back and forth is not told twice);
    3. notifications for those: one INSERT … SELECT over the recipients, each unique per
       (task, level, due date, channel, recipient), ON CONFLICT DO NOTHING (the words
       are written at delivery time, alerts.messages);
    4. the touched rooms: revision moved on, flagged/alerted counts moved by the claims;
    5. one activity entry per newly flagged task."""
    sql = _Sql()
    cutoff_sql, cutoff = sql.date(day - datetime.timedelta(days=int(level)))
    in_batch, batch_param = sql.ids("t.id", ids)
    claim = f"""
        UPDATE plans_task AS t SET overdue_level = %s, overdue_for = t.due_date
        WHERE {in_batch} AND t.status <> %s AND t.due_date <= {cutoff_sql} AND {_NOT_THERE}
          AND {{extra}}
        RETURNING {", ".join(name for name, _ in _CLAIMED)}
    """
    params = [int(level), batch_param, TaskStatus.DONE, cutoff, int(level)]
    with transaction.atomic(), connection.cursor() as c:
        deltas = {}  # room id -> [flagged, alerted]
        claimed = []
        if level == Level.ALERTED:
            c.execute(claim.format(extra=_WAS_FLAGGED), params)
            was_flagged = c.fetchall()
            for row in was_flagged:
                delta = deltas.setdefault(row[2], [0, 0])
                delta[0] -= 1
                delta[1] += 1
            claimed += was_flagged
        c.execute(
            claim.format(extra="1 = 1" if level == Level.FLAGGED else f"NOT {_WAS_FLAGGED}"), params
        )
        rest = c.fetchall()
        for row in rest:
            deltas.setdefault(row[2], [0, 0])[0 if level == Level.FLAGGED else 1] += 1
        claimed += rest
        if not claimed:
            return
        result.batches += 1
        stamp = sql.datetime(timezone.now())
        source, source_params = sql.rows(_CLAIMED, claimed)
        c.execute(
            f"""
            INSERT INTO alerts_overdueflag (org_id, room_id, task_id, level, due_date, created_at)
            SELECT t.org_id, t.room_id, t.id, %s, t.due_date, %s FROM {source}
            WHERE true ON CONFLICT DO NOTHING
            RETURNING task_id
            """,
            [int(level), stamp, *source_params],
        )
        new = {row[0] for row in c.fetchall()}
        _move_rooms(c, sql, deltas)
        if new:
            rows = [row for row in claimed if row[0] in new]
            source, source_params = sql.rows(_CLAIMED, rows)
            result.notifications += _insert_notifications(
                c, sql, source, source_params, level, stamp
            )
            _insert_activity(c, sql, source, source_params, day, level, stamp)
            target = result.alerted if level == Level.ALERTED else result.flagged
            if keep_details:
                names = dict(Room.objects.filter(pk__in=deltas).values_list("pk", "name"))
                target.extend(
                    (row[5], names.get(_uuid(row[2]), ""), (day - _date(row[3])).days)
                    for row in rows
                )
            else:
                target.extend([None] * len(rows))
    keys = [_uuid(pk) for pk in deltas]
    transaction.on_commit(lambda: forget_revisions(keys))


def _uuid(value):
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _date(value):
    return value if isinstance(value, datetime.date) else datetime.date.fromisoformat(value)


def _move_rooms(c, sql, deltas):
    """Move each touched room's revision on and its flagged/alerted counts by what the
    claims changed (never below zero), in one UPDATE."""
    columns = (("id", "uuid"), ("f", "integer"), ("a", "integer"))
    source, params = sql.rows(columns, [(pk, f, a) for pk, (f, a) in deltas.items()])
    c.execute(
        f"""
        UPDATE rooms_room SET revision = revision + 1,
            flagged_count = {sql.greatest("flagged_count + t.f", "0")},
            alerted_count = {sql.greatest("alerted_count + t.a", "0")}
        FROM {source}
        WHERE rooms_room.id = t.id
        """,
        params,
    )


def _insert_notifications(c, sql, source, source_params, level, stamp):
    """One outbox row per (task, level, due date, channel, recipient), set-based."""
    columns = (
        "org_id, room_id, task_id, level, due_date, channel, recipient, recipient_label, "
        "payload, status, attempts, next_attempt_at, last_error, created_at"
    )

    def select(channel, recipient, label):
        return (
            f"SELECT t.org_id, t.room_id, t.id, {int(level)}, t.due_date, '{channel}', "
            f"{recipient}, {label}, {sql.empty_json}, 'pending', 0, %s, '', %s FROM {source}"
        )

    user_recipient = "'user:' || CAST(u.id AS TEXT)"
    user_label = "substr(COALESCE(NULLIF(u.name, ''), u.email), 1, 250)"
    owner = " JOIN rooms_room r ON r.id = t.room_id JOIN accounts_user u ON u.id = r.owner_id"
    # Slack to the room's owner (flagged and alerted).
    parts = [select("slack", user_recipient, user_label) + owner]
    if level == Level.ALERTED:
        # Slack to the organisation's managers (the owner already has theirs).
        parts.append(
            select("slack", user_recipient, user_label) + " JOIN rooms_room r ON r.id = t.room_id"
            f" JOIN accounts_membership m ON m.org_id = t.org_id AND m.role = '{Role.MANAGER}'"
            " JOIN accounts_user u ON u.id = m.user_id"
            " WHERE r.owner_id IS NULL OR m.user_id <> r.owner_id"
        )
        # Email to the buyer's champion(s) and to the task's owner (once per address).
        email, label = "lower(s.email)", "substr(s.name, 1, 250)"
        parts.append(
            select("email", email, label)
            + " JOIN stakeholders_stakeholder s ON s.room_id = t.room_id"
            f" AND s.org_id = t.org_id AND s.role = '{DecisionRole.CHAMPION}' AND s.email <> ''"
        )
        parts.append(
            select("email", email, label)
            + " JOIN stakeholders_stakeholder s ON s.id = t.owner_id AND s.email <> ''"
        )
    c.execute(
        # (WHERE true: SQLite reads "ON CONFLICT" after a bare FROM as a join.)
        f"INSERT INTO alerts_notification ({columns}) SELECT * FROM ("
        + " UNION ALL ".join(parts)
        + ") AS n WHERE true ON CONFLICT DO NOTHING",
        [stamp, stamp, *source_params] * len(parts),
    )
    return max(c.rowcount, 0)


def _insert_activity(c, sql, source, source_params, day, level, stamp):
    verb = ActivityEvent.Verb.ALERTED if level == Level.ALERTED else ActivityEvent.Verb.FLAGGED
    day_sql, day_param = sql.date(day)
    days = sql.days_between(day_sql, "t.due_date")
    c.execute(
        f"""
        INSERT INTO rooms_activityevent (org_id, room_id, created_at, actor_kind,
            actor_user_id, actor_ref, actor_label, verb, target_type, target_id,
            target_label, target_version, changes, room_revision)
        SELECT t.org_id, t.room_id, %s, %s, NULL, '', 'mapsite', %s, 'task',
            {sql.uuid_text("t.id")}, substr(t.title, 1, 250), NULL, {sql.json_late(days)},
            r.revision
        FROM {source} JOIN rooms_room r ON r.id = t.room_id
        """,
        [stamp, ActorKind.SYSTEM, verb, day_param, *source_params],
    )


def _enqueue_delivery():
    from .tasks import deliver_due

    try:
        deliver_due.delay()
    except Exception:  # broker unreachable: beat's next deliver_due run sends them
        log.exception("Could not queue delivery; the next scheduled run will send it")
