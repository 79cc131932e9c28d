"""The overdue sweep at scale, on PostgreSQL, against a bare SQL UPDATE.

    .venv/bin/python bench/overdue_sweep.py [--tasks 1000000] [--flag 50000] [--alert 20000]
                                            [--pairs 7] [--layout clustered|interleaved]

Builds a fresh database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mapsite_sweep_bench; Redis BENCH_REDIS_URL, default
redis://127.0.0.1:6379/15, as in production) with TASKS tasks in rooms of 100,
of which FLAG newly cross +3 days and ALERT cross +7 (already flagged at +3), the rest
not due yet or done. Then, on the same data, PAIRS times:

- baseline: one bare UPDATE that sets the same overdue levels, committed (autocommit,
  as it would run on its own);
- the sweep (alerts.sweep.sweep_overdue), timed, with its SQL statements counted;

(the bare UPDATE first in odd pairs, the sweep first in even ones),
before each, the data is put back as it was, vacuumed and checkpointed (untimed), so
both start from the same state (and both write the full-page images that follow a
checkpoint). It prints each pair's ratio and their median (the machine is shared: a
burst of load elsewhere slows one side of a pair), the statements per batch, the
notifications queued per second, and where the sweep's time went.
"""

import argparse
import datetime
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import pgdb  # noqa: E402

DB_URL = pgdb.database_url("mapsite_sweep_bench")
TODAY = datetime.date(2026, 11, 23)
# When the bench's deals were set up: before any of their work fell due (the sweep
# never flags work that was already late when it was created).
CREATED = datetime.datetime(2026, 8, 1, tzinfo=datetime.UTC)


def recreate(drop_only=False):
    pgdb.recreate(DB_URL, drop_only=drop_only)


def setup(data_dir):
    pgdb.setup(DB_URL, data_dir)


def others(model, given):
    """The columns of ``model`` that ``given`` (an INSERT's column list) does not name,
    each with the value the app would write by default (named parameters), so that a
    column added to the model later does not break the benchmark:
    (", col…", ", %(…)s…", params)."""
    from django.db import connection

    named = {name.strip().strip('"') for name in given.split(",")}
    columns, values, params = [], [], {}
    for f in model._meta.concrete_fields:
        if f.column in named:
            continue
        key = f"{model._meta.db_table}_{f.column}"
        value = f.get_default()
        columns.append(f'"{f.column}"')
        values.append(f"%({key})s")
        params[key] = f.get_db_prep_save(value, connection)
    return "".join(f", {c}" for c in columns), "".join(f", {v}" for v in values), params


def populate(n_tasks, n_flag, n_alert, layout, per_room=100):
    """Set-based inserts: rooms of ``per_room`` tasks, one plan and milestone each."""
    from django.db import connection

    from accounts.models import Membership, Organization, Role, User
    from plans.models import Milestone, Plan, Task
    from rooms.models import Room

    org = Organization.objects.create(name="Sweep bench")
    owner = User.objects.create_user(email="owner@bench.example", password="x" * 12, name="Owner")
    Membership.objects.create(org=org, user=owner, role=Role.REP)
    manager = User.objects.create_user(
        email="manager@bench.example", password="x" * 12, name="Manager"
    )
    Membership.objects.create(org=org, user=manager, role=Role.MANAGER)
    rooms = n_tasks // per_room
    with connection.cursor() as c:
        given = (
            "id, org_id, owner_id, name, buyer_company, value, currency, stage, outcome,"
            " target_close_date, timezone, revision, flagged_count, alerted_count, created_at,"
            " updated_at"
        )
        rest, values, params = others(Room, given)
        c.execute(
            f"""
            INSERT INTO rooms_room ({given}{rest})
            SELECT md5('room' || g)::uuid, %(org)s, %(owner)s, 'Deal ' || g, 'Buyer ' || g,
                1000, 'USD', 'evaluation', 'open', %(close)s, 'UTC', 0, 0, 0,
                %(created)s, %(created)s{values}
            FROM generate_series(1, %(n)s) g
            """,
            {
                "org": org.pk,
                "owner": owner.pk,
                "close": TODAY + datetime.timedelta(days=30),
                "created": CREATED,
                "n": rooms,
                **params,
            },
        )
        given = "id, org_id, room_id, created_at, updated_at"
        rest, values, params = others(Plan, given)
        c.execute(
            f"""
            INSERT INTO plans_plan ({given}{rest})
            SELECT md5('plan' || g)::uuid, %(org)s, md5('room' || g)::uuid, %(created)s,
                %(created)s{values}
            FROM generate_series(1, %(n)s) g
            """,
            {"org": org.pk, "created": CREATED, "n": rooms, **params},
        )
        given = (
            "id, org_id, room_id, plan_id, title, lead_side, track, completion_condition,"
            " created_at, updated_at, status"
        )
        rest, values, params = others(Milestone, given)
        c.execute(
            f"""
            INSERT INTO plans_milestone ({given}{rest})
            SELECT md5('ms' || g)::uuid, %(org)s, md5('room' || g)::uuid, md5('plan' || g)::uuid,
                'Security review', 'buyer', 'security', 'Sign-off', %(created)s, %(created)s,
                'in_progress'{values}
            FROM generate_series(1, %(n)s) g
            """,
            {"org": org.pk, "created": CREATED, "n": rooms, **params},
        )
        # Task g lives in room r and is its room's p-th task; k numbers the tasks for
        # the overdue states (k <= FLAG: 3-6 days late, then ALERT more: 7-11 days late
        # and flagged at +3 already). "clustered" (as the app writes them: a room's
        # tasks together, the overdue ones a few in every room, across the table):
        # r = (g - 1) / per_room + 1 and k round-robin over rooms. "interleaved": room
        # r = (g - 1) % rooms + 1 and k = g (the overdue tasks are the table's first
        # rows, each room's tasks spread over the whole table).
        if layout == "clustered":
            room_no = "(g - 1) / %(per_room)s + 1"
            k = "((g - 1) %% %(per_room)s) * %(rooms)s + (g - 1) / %(per_room)s + 1"
        else:
            room_no, k = "(g - 1) %% %(rooms)s + 1", "g"
        given = (
            'id, org_id, room_id, plan_id, milestone_id, "order", title, side, due_date, status,'
            " overdue_level, overdue_for, created_at, updated_at"
        )
        rest, values, params = others(Task, given)
        c.execute(
            f"""
            INSERT INTO plans_task ({given}{rest})
            SELECT md5('task' || g)::uuid, %(org)s,
                md5('room' || r)::uuid, md5('plan' || r)::uuid, md5('ms' || r)::uuid,
                g, 'Task ' || g, 'buyer',
                CASE WHEN k <= %(flag)s THEN %(today)s::date - (3 + k %% 4)
                     WHEN k <= %(flag)s + %(alert)s THEN %(today)s::date - (7 + k %% 5)
                     ELSE %(today)s::date + (k %% 60) END,
                CASE WHEN k > %(flag)s + %(alert)s AND k %% 3 = 0 THEN 'done'
                     ELSE 'in_progress' END,
                CASE WHEN k > %(flag)s AND k <= %(flag)s + %(alert)s THEN 3 ELSE 0 END,
                CASE WHEN k > %(flag)s AND k <= %(flag)s + %(alert)s
                     THEN %(today)s::date - (7 + k %% 5) ELSE NULL END,
                %(created)s, %(created)s{values}
            FROM (SELECT g, {room_no} AS r, {k} AS k FROM generate_series(1, %(n)s) g) AS s
            ORDER BY g
            """,
            {
                "org": org.pk,
                "rooms": rooms,
                "per_room": per_room,
                "flag": n_flag,
                "alert": n_alert,
                "today": TODAY,
                "created": CREATED,
                "n": n_tasks,
                **params,
            },
        )
        c.execute("ANALYZE")
    return rooms


BASELINE = """
UPDATE plans_task t SET
    overdue_level = CASE WHEN t.due_date <= %(today)s::date - 7 THEN 7 ELSE 3 END,
    overdue_for = t.due_date
FROM rooms_room r
WHERE r.id = t.room_id AND r.outcome = 'open' AND t.status <> 'done'
  AND t.due_date <= %(today)s::date - 3
  AND NOT (t.overdue_for IS NOT DISTINCT FROM t.due_date
           AND t.overdue_level >= CASE WHEN t.due_date <= %(today)s::date - 7 THEN 7 ELSE 3 END)
"""


RESTORE = """
UPDATE plans_task SET
    overdue_level = CASE WHEN due_date <= %(today)s::date - 7 THEN 3 ELSE 0 END,
    overdue_for = CASE WHEN due_date <= %(today)s::date - 7 THEN due_date END
WHERE overdue_level > 0 AND due_date <= %(today)s::date - 3
"""


def put_back():
    """Untimed: the tasks, rooms, outbox and activity as ``populate`` left them."""
    from django.db import connection

    with connection.cursor() as c:
        c.execute(RESTORE, {"today": TODAY})
        c.execute("UPDATE rooms_room SET flagged_count = 0, alerted_count = 0, revision = 0")
        c.execute("TRUNCATE alerts_notification")
        c.execute("DELETE FROM rooms_activityevent WHERE verb IN ('flagged', 'alerted')")
        c.execute("VACUUM ANALYZE")
        c.execute("CHECKPOINT")


def baseline():
    """The bare UPDATE as it would run on its own: in autocommit, commit included."""
    from django.db import connection

    with connection.cursor() as c:
        started = time.perf_counter()
        c.execute(BASELINE, {"today": TODAY})
        elapsed = time.perf_counter() - started
        rows = c.rowcount
    return elapsed, rows


def statement_kind(sql):
    """A short name for one of the sweep's statements."""
    sql = sql.replace('"', "")
    for marker, name in (
        ("UPDATE plans_task", "claim tasks (UPDATE plans_task … RETURNING)"),
        ("UPDATE rooms_room", "move rooms (UPDATE rooms_room … RETURNING)"),
        ("INSERT INTO alerts_notification", "outbox (INSERT INTO alerts_notification)"),
        ("INSERT INTO rooms_activityevent", "activity (INSERT INTO rooms_activityevent)"),
        ("INSERT INTO alerts_sweep_candidates", "candidates (one scan of plans_task, numbered)"),
        ("SELECT crossed", "tally (SELECT … FROM the scratch table)"),
    ):
        if marker in sql:
            return name
    return " ".join(sql.split()[:3]) or "?"


def sweep(batch_size):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from alerts.sweep import sweep_overdue

    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        result = sweep_overdue(today=TODAY, batch_size=batch_size, keep_details=False)
        elapsed = time.perf_counter() - started
    by_kind = {}
    for q in queries.captured_queries:
        kind = statement_kind(q["sql"])
        total, count = by_kind.get(kind, (0.0, 0))
        by_kind[kind] = (total + float(q["time"]), count + 1)
    return elapsed, result, len(queries.captured_queries), by_kind


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--flag", type=int, default=50_000)
    parser.add_argument("--alert", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--pairs", type=int, default=7)
    parser.add_argument("--layout", choices=["clustered", "interleaved"], default="clustered")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate()
    setup(Path(tempfile.mkdtemp(prefix="mapsite-sweep-bench-")))
    started = time.perf_counter()
    rooms = populate(args.tasks, args.flag, args.alert, args.layout)
    print(
        f"{args.tasks:,} tasks in {rooms:,} rooms ({args.flag:,} crossing +3, "
        f"{args.alert:,} crossing +7; {args.layout} layout) built in "
        f"{time.perf_counter() - started:.0f} s"
    )
    try:
        from alerts.models import Notification

        pairs = []
        for number in range(args.pairs):
            # Odd pairs run the bare UPDATE first, even pairs the sweep first: a slow
            # spell of the machine does not always fall on the same side.
            for side in ("bare", "sweep") if number % 2 == 0 else ("sweep", "bare"):
                put_back()
                if side == "bare":
                    base, base_rows = baseline()
                else:
                    measured = sweep(args.batch)
                    queued = Notification.objects.count()
            pairs.append((base, *measured))
            base, sweep_time = pairs[-1][:2]
            print(
                f"pair {len(pairs)}: bare UPDATE {base:.2f} s ({base_rows:,} rows), "
                f"sweep {sweep_time:.2f} s -> ratio {sweep_time / base:.2f}"
            )
        put_back()
        base, sweep_time, result, statements, by_kind = sorted(
            pairs, key=lambda pair: pair[1] / pair[0]
        )[len(pairs) // 2]
        print(
            f"median ratio {sweep_time / base:.2f} (target <= 2.0): sweep {sweep_time:.2f} s, "
            f"bare UPDATE {base:.2f} s"
        )
        print(
            f"  flagged {result.flagged:,}, alerted {result.alerted:,}, "
            f"{result.batches} batches of up to {args.batch}"
        )
        print(
            f"  SQL statements: {statements:,} = {statements / max(result.batches, 1):.1f} "
            f"per batch"
        )
        print(f"  notifications queued: {queued:,} = {queued / sweep_time:,.0f} per second")
        print("  time by statement kind:")
        for kind, (total, count) in sorted(by_kind.items(), key=lambda kv: -kv[1][0])[:8]:
            print(f"    {total:6.2f} s  {count:4d} x  {kind}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate(drop_only=True)


if __name__ == "__main__":
    main()
