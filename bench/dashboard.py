"""The managers' dashboard at scale, on PostgreSQL, against a bare paginated room list.

    .venv/bin/python bench/dashboard.py [--rooms 10000] [--tasks-per-room 25] [--runs 31]

Builds a fresh database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/mapsite_dashboard_bench; Redis BENCH_REDIS_URL,
default redis://127.0.0.1:6379/15, as cache and session store like production) with
ROOMS open rooms in one organisation, each with a plan of 5 milestones and
TASKS_PER_ROOM tasks (10,000 x 25 = 250,000 tasks), three people (champion, economic
buyer, account executive), buyer views on half of them and overdue flags on some,
written with set-based SQL. The rooms' signal columns and schedule (projected close,
slip) are then filled by the app's own services (``plans.services.plan_changed``,
timed). Then, through Django's test Client (the whole request:
middleware, session, membership, queries, template), in the same run:

1. baseline: the app's bare paginated room list (/rooms/?show=open, 50 rows);
2. the dashboard's first page (50 rows) under several sorts and filters, KPIs warm;
3. the same first page with the KPI cache cold (every request recomputes them);
4. a filter change as htmx sends it (the table fragment only);

each request paired with a baseline request just before it; the ratio printed is the
median of the RUNS paired ratios (so a burst of load from elsewhere on the machine
slows both sides of a pair), with the median time and the request's SQL query count.
"""

import argparse
import datetime
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import pgdb  # noqa: E402

DB_URL = pgdb.database_url("mapsite_dashboard_bench")
REPS = 20


def recreate(drop_only=False):
    pgdb.recreate(DB_URL, drop_only=drop_only)


def setup(data_dir):
    pgdb.setup(DB_URL, data_dir, ALLOWED_HOSTS="testserver")
    # The manifest storage needs collectstatic; the bench renders with plain names.
    from django.conf import settings

    settings.STORAGES["staticfiles"] = {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
    }


def populate(n_rooms, per_room):
    """Set-based inserts, then the app's recount services fill the signal columns."""
    from django.db import connection

    from accounts.models import Membership, Organization, Role, User

    org = Organization.objects.create(name="Dashboard bench")
    manager = User.objects.create_user(
        email="manager@bench.example", password="x" * 12, name="Manager"
    )
    Membership.objects.create(org=org, user=manager, role=Role.MANAGER)
    reps = []
    for i in range(REPS):
        rep = User.objects.create_user(
            email=f"rep{i}@bench.example", password="x" * 12, name=f"Rep {i:02}"
        )
        Membership.objects.create(org=org, user=rep, role=Role.REP)
        reps.append(rep.pk)
    params = {
        "org": org.pk,
        "n": n_rooms,
        "per": per_room,
        "reps": reps,
        "nreps": REPS,
        "today": datetime.date.today(),
    }
    with connection.cursor() as c:
        c.execute(
            """
            INSERT INTO rooms_room (id, org_id, owner_id, name, buyer_company, value, currency,
                stage, outcome, target_close_date, close_reason, outcome_reason, goal, timezone,
                review_duration_minutes, revision, flagged_count, alerted_count,
                buyer_tasks_total, buyer_tasks_done, seller_tasks_total, seller_tasks_done,
                buyer_milestones_total, buyer_milestones_done, vague_milestones, approver_count,
                slip_days, version, created_at, updated_at)
            SELECT md5('room' || g)::uuid, %(org)s, (%(reps)s::bigint[])[1 + g %% %(nreps)s],
                'Deal ' || g, 'Buyer ' || (g * 7 %% 997), (g * 7919 %% 500) * 1000, 'USD',
                (ARRAY['discovery','evaluation','proposal','negotiation','closing'])[1 + g %% 5],
                'open', %(today)s::date + (g %% 120) - 20, '', '', '', 'UTC', 30, 0, 0, 0,
                0, 0, 0, 0, 0, 0, 0, 0, 0, 1, now() - make_interval(days => g %% 200), now()
            FROM generate_series(1, %(n)s) g
            """,
            params,
        )
        c.execute(
            """
            INSERT INTO plans_plan (id, org_id, room_id, template, agreed_by, agreed_at, version,
                created_at, updated_at)
            SELECT md5('plan' || g)::uuid, %(org)s, md5('room' || g)::uuid, '', '',
                CASE WHEN g %% 3 = 0 THEN now() - make_interval(days => g %% 60) END, 1,
                now() - make_interval(days => g %% 180), now()
            FROM generate_series(1, %(n)s) g
            """,
            params,
        )
        c.execute(
            """
            INSERT INTO stakeholders_stakeholder (id, org_id, room_id, side, name, email, title,
                role, influence, approval_authority, track, scope, version, created_at, updated_at)
            SELECT md5('sh' || g || '-' || k)::uuid, %(org)s, md5('room' || g)::uuid,
                CASE WHEN k = 2 THEN 'seller' ELSE 'buyer' END,
                (ARRAY['Ann Champion','Carl Buyer','Sam Seller'])[k + 1], '', '',
                (ARRAY['champion','economic_buyer','account_executive'])[k + 1], 'medium',
                k = 1, 'business', 'all', 1, now(), now()
            FROM generate_series(1, %(n)s) g, generate_series(0, 2) k
            """,
            params,
        )
        c.execute(
            """
            INSERT INTO plans_milestone (id, org_id, room_id, plan_id, "order", title,
                target_date, lead_side, track, completion_condition, status, version,
                created_at, updated_at)
            SELECT md5('ms' || g || '-' || k)::uuid, %(org)s, md5('room' || g)::uuid,
                md5('plan' || g)::uuid, k, 'Milestone ' || k, %(today)s::date + k * 10,
                CASE WHEN k %% 2 = 0 THEN 'buyer' ELSE 'seller' END, 'business',
                CASE WHEN g %% 7 = 0 AND k = 1 THEN '' ELSE 'Signed-off artifact' END,
                'not_started', 1, now(), now()
            FROM generate_series(1, %(n)s) g, generate_series(0, 4) k
            """,
            params,
        )
        # Task t of room g: milestone t % 5, owner t % 3 (champion, approver, seller);
        # the first (g % (per + 1)) tasks are done; one in five rooms has a blocked task.
        c.execute(
            """
            INSERT INTO plans_task (id, org_id, room_id, plan_id, milestone_id, "order", title,
                owner_id, side, due_date, status, notes, evidence, completed_at, overdue_level,
                version, created_at, updated_at)
            SELECT md5('task' || g || '-' || t)::uuid, %(org)s, md5('room' || g)::uuid,
                md5('plan' || g)::uuid, md5('ms' || g || '-' || (t %% 5))::uuid, t,
                'Task ' || t, md5('sh' || g || '-' || (t %% 3))::uuid,
                CASE WHEN t %% 3 = 2 THEN 'seller' ELSE 'buyer' END,
                %(today)s::date - 30 + t * 3 + (g %% 10),
                CASE WHEN t < g %% (%(per)s + 1) THEN 'done'
                     WHEN g %% 5 = 0 AND t = %(per)s - 3 THEN 'blocked'
                     WHEN t %% 4 = 0 THEN 'in_progress' ELSE 'not_started' END,
                '', '',
                CASE WHEN t < g %% (%(per)s + 1)
                     THEN now() - make_interval(days => (g + t) %% 40) END,
                0, 1, now() - make_interval(days => 60), now()
            FROM generate_series(1, %(n)s) g, generate_series(0, %(per)s - 1) t
            """,
            params,
        )
        # As the overdue sweep would leave it: some late tasks flagged or alerted.
        c.execute(
            """
            UPDATE plans_task SET overdue_level = CASE WHEN due_date < %(today)s::date - 7
                THEN 7 ELSE 3 END, overdue_for = due_date
            WHERE status <> 'done' AND due_date <= %(today)s::date - 3
              AND ("order" + ascii(right(room_id::text, 1))) %% 4 = 0
            """,
            params,
        )
        c.execute(
            """
            UPDATE plans_milestone m SET
                status = CASE WHEN s.open = 0 THEN 'done'
                              WHEN s.moved > 0 THEN 'in_progress' ELSE 'not_started' END,
                completed_at = CASE WHEN s.open = 0 THEN s.last END
            FROM (SELECT milestone_id, count(*) FILTER (WHERE status <> 'done') AS open,
                         count(*) FILTER (WHERE status <> 'not_started') AS moved,
                         max(completed_at) AS last
                  FROM plans_task GROUP BY milestone_id) s
            WHERE s.milestone_id = m.id
            """
        )
        # Buyers: half the rooms were viewed by the champion, a quarter by the approver;
        # a third had a buyer edit or comment.
        c.execute(
            """
            INSERT INTO stakeholders_viewevent (org_id, room_id, stakeholder_id, created_at,
                kind, target_label, starts_visit)
            SELECT %(org)s, md5('room' || g)::uuid, md5('sh' || g || '-' || k)::uuid,
                now() - make_interval(days => (g * (k + 1)) %% 30), 'room', 'the room', true
            FROM generate_series(1, %(n)s) g, generate_series(0, 1) k
            WHERE g %% 2 = 0 AND (k = 0 OR g %% 4 = 0)
            """,
            params,
        )
        c.execute(
            """
            UPDATE rooms_room r SET last_buyer_activity_at = v.last
            FROM (SELECT room_id, max(created_at) AS last FROM stakeholders_viewevent
                  GROUP BY room_id) v WHERE v.room_id = r.id
            """
        )
        c.execute(
            """
            UPDATE rooms_room SET last_buyer_contribution_at = last_buyer_activity_at
            WHERE last_buyer_activity_at IS NOT NULL AND ascii(right(id::text, 1)) % 3 = 0
            """
        )
        c.execute("ANALYZE")
    return org, manager


def recount_all():
    from plans.services import plan_changed, room_overdue_recount
    from rooms.models import Room
    from stakeholders.services import room_people_recount

    ids = list(Room.objects.values_list("pk", flat=True))
    started = time.perf_counter()
    for i in range(0, len(ids), 1000):
        batch = ids[i : i + 1000]
        plan_changed(batch)  # plan signals and schedule (projected close, slip)
        room_overdue_recount(batch)
        room_people_recount(batch)
    elapsed = time.perf_counter() - started
    from django.db import connection

    with connection.cursor() as c:
        # The recount stamps "completion changed" now; spread it over the last 60 days
        # as weeks of history would have, so some rooms are zombies (21+ days).
        c.execute(
            """
            UPDATE rooms_room SET completion_changed_at =
                now() - make_interval(days => abs(hashtext(id::text)) % 60)
            """
        )
        c.execute("ANALYZE")
    return elapsed, len(ids)


def timed(client, url, **headers):
    started = time.perf_counter()
    response = client.get(url, **headers)
    body = b"".join(response.streaming_content) if response.streaming else response.content
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, (url, response.status_code, body[:300])
    return elapsed


def queries(client, url, **headers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        client.get(url, **headers)
    return len(captured.captured_queries)


BASELINE = "/rooms/?show=open"
SCENARIOS = [
    ("default (worst health first)", "/dashboard/"),
    ("sort by value, descending", "/dashboard/?sort=-value"),
    ("sort by last buyer activity", "/dashboard/?sort=activity"),
    ("sort by current blocker", "/dashboard/?sort=blocker"),
    ("sort by buyer completion", "/dashboard/?sort=-buyer_done"),
    ("sort by slip, most late first", "/dashboard/?sort=-slip"),
    ("sort by projected close", "/dashboard/?sort=projected"),
    ("slipping > 7 days, by value", "/dashboard/?slip=7&sort=-value"),
    ("badge: zombie", "/dashboard/?badge=zombie"),
    ("badge: approver dark, by value", "/dashboard/?badge=approver_dark&sort=-value"),
    ("health: at risk", "/dashboard/?health=at_risk"),
    ("stage: proposal", "/dashboard/?stage=proposal"),
    ("owner + value range", "/dashboard/?owner={rep}&min_value=100000&max_value=400000"),
    ("search 'Buyer 12'", "/dashboard/?q=Buyer+12"),
    ("page 100 (rows 4,951-5,000; not a first page)", "/dashboard/?page=100"),
]


def measure(client, runs, rep_id, org_id):
    from django.core.cache import cache

    from dashboard.kpis import FRESH_SECONDS, cache_key

    kpi_key = cache_key(org_id)
    hx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "dashboard-table"}
    for _ in range(3):  # warm up: connections, templates, KPI cache
        timed(client, BASELINE)
        timed(client, "/dashboard/")
    results = []
    baseline_times = []

    def run(label, url, headers=None, cold=False):
        headers = headers or {}
        times, ratios = [], []
        for _ in range(runs):
            base = timed(client, BASELINE)
            baseline_times.append(base)
            if cold:
                cache.delete(kpi_key)
            times.append(timed(client, url, **headers))
            ratios.append(times[-1] / base)
        if cold:
            cache.delete(kpi_key)
        n_queries = queries(client, url, **headers)
        results.append((label, statistics.median(times), statistics.median(ratios), n_queries))

    for label, url in SCENARIOS:
        run(label, url.format(rep=rep_id))
    run("filter change via htmx (table only)", "/dashboard/?badge=overdue&sort=-value", hx)
    run("first page, KPI cache cold", "/dashboard/", cold=True)
    base = statistics.median(baseline_times)
    base_queries = queries(client, BASELINE)
    return base, base_queries, results, FRESH_SECONDS


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=10_000)
    parser.add_argument("--tasks-per-room", type=int, default=25)
    parser.add_argument("--runs", type=int, default=31)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    recreate()
    setup(Path(tempfile.mkdtemp(prefix="mapsite-dashboard-bench-")))
    try:
        started = time.perf_counter()
        org, manager = populate(args.rooms, args.tasks_per_room)
        built = time.perf_counter() - started
        recount_time, n = recount_all()
        from django.test import Client

        from plans.models import Task
        from rooms.models import Room

        tasks = Task.objects.count()
        print(
            f"{n:,} open rooms, {tasks:,} tasks in one organisation: inserted in {built:.0f} s; "
            f"signal columns and schedule filled by the services in {recount_time:.1f} s "
            f"({1000 * recount_time / n:.2f} ms per room)"
        )
        rep_id = Room.objects.values_list("owner_id", flat=True).first()
        client = Client()
        client.force_login(manager)
        base, base_queries, results, cache_seconds = measure(client, args.runs, rep_id, org.pk)
        print(
            f"baseline, bare paginated room list ({BASELINE}): "
            f"{1000 * base:.1f} ms median, {base_queries} queries"
        )
        print(f"{'dashboard (50 rows a page)':50} {'median':>9} {'ratio':>6} {'queries':>8}")
        worst = 0
        for label, median, ratio, n_queries in results:
            if "cold" not in label and "page 100" not in label:
                worst = max(worst, ratio)
            print(f"{label:50} {1000 * median:7.1f} ms {ratio:6.2f} {n_queries:8}")
        print(
            f"worst first-page ratio, KPIs cached ({cache_seconds} s): {worst:.2f} (target <= 3.0)"
        )
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            recreate(drop_only=True)


if __name__ == "__main__":
    main()
