"""Room pages under load: requests per second of the seller room, the buyer room and the
dashboard against the app's trivial view, on the real app server with the demo data.

    .venv/bin/pip install ".[bench]"
    .venv/bin/python bench/pages.py            # SQLite; also PostgreSQL + Redis if they answer
    .venv/bin/python bench/pages.py --sqlite   # the embedded default only
    .venv/bin/python bench/pages.py --pg       # PostgreSQL + Redis only
    .venv/bin/python bench/pages.py --quick    # a smoke run: short phases, small profile

For each database, in a process of its own and a throwaway MAPSITE_DATA_DIR (removed
afterwards unless --keep):
1. prepares the data as `make run` does: migrate, collectstatic, seed_demo,
   recount_room_signals, scan_overdue. On the embedded default that is SQLite and the
   file cache; with PostgreSQL a fresh database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/mapsite_pages_bench, dropped afterwards) and
   Redis (BENCH_REDIS_URL, default redis://127.0.0.1:6379/15, cleared first) as cache
   and session store, as in production;
2. issues a personal link for the demo room's champion, Maria Lopez (the app's
   ``link_issue`` service);
3. in process, through Django's test client against the same database: the SQL
   queries of each page (a warm request: not the first of its process; for the rooms,
   "rendered/kept": the first view after a change, whose body is rendered, and the
   next, served from the kept body of rooms/render_cache.py) and a cProfile of the
   seller and buyer rooms, rendered and kept, with the request's time split into
   template rendering, SQL and the rest (view, middleware, services);
4. starts gunicorn exactly as `make run` does (``mapsite.run``: WEB_CONCURRENCY
   workers x WEB_THREADS threads, default 2 x 4; the Celery worker and beat are not
   started), signs in as the demo seller and the demo manager through the sign-in form
   (CSRF and all), and opens the buyer link;
5. measures requests per second with CONNECTIONS concurrent keep-alive clients, each
   page for SECONDS after a warm-up, in this order: /healthz, the seller room ("Acme
   Corp"), the buyer room (/b/room/), the dashboard (as the manager), the buyer's
   "nothing changed" live poll, /healthz again. Each figure is printed with its ratio
   to the mean of the two /healthz runs, with the page's HTML size and queries;
6. prints the gunicorn workers' memory (VmRSS) before and after the load.

Exits non-zero if any request answered other than expected (200; 204 for the poll).
"""

import argparse
import asyncio
import cProfile
import html
import http.client
import itertools
import json
import os
import pstats
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import pgdb  # noqa: E402
from bench.live_poll import DIGEST, free_port  # noqa: E402

DB_URL = pgdb.database_url("mapsite_pages_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DEMO_ROOM = "Acme Corp"
BUYER = "Maria Lopez"
MAKE_RUN_STEPS = [  # what `make run` does before it starts the processes
    ["migrate", "--noinput", "-v0"],
    ["collectstatic", "--noinput", "-v0"],
    ["seed_demo"],
    ["recount_room_signals"],
    ["scan_overdue"],
]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


# --- preparing one database -----------------------------------------------------------


def prepare(backend, data_dir):
    os.environ.update(
        MAPSITE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="mapsite.settings",
        LOG_LEVEL="WARNING",
    )
    if backend == "pg":
        pgdb.recreate(DB_URL)
        os.environ.update(DATABASE_URL=DB_URL, REDIS_URL=REDIS_URL)
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ.pop("REDIS_URL", None)
    for step in MAKE_RUN_STEPS:
        done = subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, capture_output=True, text=True
        )
        if done.returncode:
            sys.stderr.write(done.stdout + done.stderr)
            raise SystemExit(f"manage.py {step[0]} failed")
    import django

    django.setup()
    if backend == "pg":
        from django.core.cache import cache

        cache.clear()  # sessions, hints and KPIs of earlier runs must not answer for this one


def demo():
    """The demo's people, its sample room, and a fresh personal link for the champion."""
    from accounts.models import User
    from plans.demo import DEMO_EMAIL, DEMO_PASSWORD, MANAGER_EMAIL
    from plans.live.tickets import buyer_ticket
    from plans.models import Milestone, Task
    from rooms.actors import Actor
    from rooms.models import Room
    from stakeholders.links import link_issue
    from stakeholders.models import Stakeholder

    seller = User.objects.get(email=DEMO_EMAIL)
    room = Room.objects.get(buyer_company=DEMO_ROOM, owner=seller)
    maria = Stakeholder.objects.get(room=room, name=BUYER)
    link, token = link_issue(actor=Actor(user=seller), room=room, stakeholder=maria)
    return {
        "seller": DEMO_EMAIL,
        "manager": MANAGER_EMAIL,
        "password": DEMO_PASSWORD,
        "room": str(room.pk),
        "room_name": room.name,
        "tasks": Task.objects.for_room(room).count(),
        "milestones": Milestone.objects.for_room(room).count(),
        "token": token,
        "ticket": buyer_ticket(link.pk, room.pk),
    }


# --- in process: queries and profile ----------------------------------------------------


def clients(d):
    from django.test import Client

    from accounts.models import User

    seller = Client(HTTP_HOST="127.0.0.1")
    seller.force_login(User.objects.get(email=d["seller"]))
    manager = Client(HTTP_HOST="127.0.0.1")
    manager.force_login(User.objects.get(email=d["manager"]))
    buyer = Client(HTTP_HOST="127.0.0.1")
    assert buyer.get(f"/b/{d['token']}/").status_code == 303
    return {"seller": seller, "manager": manager, "buyer": buyer}


ROOMS = ("seller room", "buyer room")  # pages with a kept body (rooms/render_cache.py)


def pages(d):
    """(label, who, path) of every page measured, in order."""
    return [
        ("seller room", "seller", f"/rooms/{d['room']}/"),
        ("buyer room", "buyer", "/b/room/"),
        ("dashboard", "manager", "/dashboard/"),
    ]


def count_queries(d, cs):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.live_poll import poll_query_count
    from rooms import render_cache

    def count(who, path):
        with CaptureQueriesContext(connection) as captured:
            response = cs[who].get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(captured.captured_queries)

    counts = {}
    for label, who, path in pages(d):
        for _ in range(3):  # warm: templates loaded, hints and caches as a busy server has them
            assert cs[who].get(path).status_code == 200, (label, path)
        if label in ROOMS:  # rendered (as after a change), then served from the kept one
            render_cache.forget([d["room"]])
            counts[label] = f"{count(who, path)}/{count(who, path)}"
        else:
            counts[label] = str(count(who, path))
    counts["live poll, nothing changed"] = str(poll_query_count((d["token"], d["ticket"])))
    counts["/healthz"] = "0"
    return counts


class Split:
    """Wall time of requests split into template rendering, SQL, and the rest.

    Template time is counted from the outermost Django template render (nested
    templates and {% include %} inside it) minus the SQL run while rendering (lazy
    querysets evaluated by the template), which is counted as SQL."""

    def __init__(self):
        self.local = threading.local()
        self.template = self.sql = self.sql_in_template = 0.0
        self.queries = 0

    def __enter__(self):
        from django.db import connection
        from django.template.backends.django import Template

        self.original = Template.render
        split = self

        def render(template, context=None, request=None):
            depth = getattr(split.local, "depth", 0)
            split.local.depth = depth + 1
            started = time.perf_counter()
            try:
                return split.original(template, context, request)
            finally:
                split.local.depth = depth
                if depth == 0:
                    split.template += time.perf_counter() - started

        def execute(run, sql, params, many, context):
            started = time.perf_counter()
            try:
                return run(sql, params, many, context)
            finally:
                elapsed = time.perf_counter() - started
                split.sql += elapsed
                split.queries += 1
                if getattr(split.local, "depth", 0):
                    split.sql_in_template += elapsed

        Template.render = render
        self.wrapper = connection.execute_wrapper(execute)
        self.wrapper.__enter__()
        return self

    def __exit__(self, *exc):
        from django.template.backends.django import Template

        self.wrapper.__exit__(*exc)
        Template.render = self.original


def profile(d, cs, runs):
    """cProfile and the time split of the seller and buyer rooms, RUNS requests each,
    rendered (no kept body: the first view after a change) and served from the kept
    body."""
    from rooms import render_cache

    results = {}
    for (label, who, path), kept in itertools.product(pages(d)[:2], (False, True)):
        client = cs[who]
        for _ in range(3):
            client.get(path)

        def requests(on=None, off=None, client=client, path=path, kept=kept):
            """RUNS requests; the time spent in them alone (for a rendered one, the
            room's kept renders are made stale between requests, outside the time)."""
            spent = 0.0
            for _ in range(runs):
                if not kept:  # as after a change: the room's kept renders are stale
                    render_cache.forget([d["room"]])
                if on:
                    on()
                started = time.perf_counter()
                client.get(path)
                spent += time.perf_counter() - started
                if off:
                    off()
            return spent

        with Split() as split:
            total = requests()
        profiler = cProfile.Profile()
        requests(profiler.enable, profiler.disable)
        label = f"{label}, {'kept' if kept else 'rendered'}"
        stats = pstats.Stats(profiler)
        ms = 1000 / runs
        results[label] = {
            "ms": total * ms,
            "template": (split.template - split.sql_in_template) * ms,
            "sql": split.sql * ms,
            "sql_in_template": split.sql_in_template * ms,
            "queries": split.queries / runs,
            "other": (total - split.template - split.sql + split.sql_in_template) * ms,
            "own": top_entries(stats, "tottime", runs, 12),
            "app": top_entries(stats, "cumulative", runs, 14, app_only=True),
        }
    return results


def top_entries(stats, key, runs, n, app_only=False):
    """The N first functions by own time (tottime) or cumulative time, in ms a request."""
    rows = []
    for (filename, line, name), (_cc, calls, tt, ct, _callers) in stats.stats.items():
        path = Path(filename)
        if app_only and (
            not filename.startswith(str(ROOT)) or ".venv" in path.parts or "bench" in path.parts
        ):
            continue
        where = short_path(filename)
        rows.append((tt if key == "tottime" else ct, calls, f"{where}:{line}({name})"))
    rows.sort(reverse=True)
    return [(1000 * t / runs, calls / runs, where) for t, calls, where in rows[:n]]


def short_path(filename):
    for marker in ("site-packages/", str(ROOT) + "/"):
        if marker in filename:
            return filename.split(marker, 1)[1]
    return filename


# --- over HTTP: the server, sign-ins, load ----------------------------------------------


def start_server(port):
    """gunicorn with the arguments `make run` gives it (mapsite.run), its log to a file."""
    from mapsite.run import build_children

    web = next(c for c in build_children("127.0.0.1", port) if c.name == "web")
    log = open(Path(os.environ["MAPSITE_DATA_DIR"]) / "web.log", "wb")  # noqa: SIM115
    process = subprocess.Popen(
        web.argv,
        cwd=ROOT,
        env=web.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,  # the access log: one line a request
        stderr=log,
        start_new_session=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log.name}")
        if answers(port) and len(workers(process.pid)) >= int(
            os.environ.get("WEB_CONCURRENCY", "2")
        ):
            return process
        time.sleep(0.1)
    stop_server(process)
    raise SystemExit("gunicorn did not start within 30 s")


def stop_server(process):
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    except ProcessLookupError:
        pass


def workers(master):
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except (OSError, IndexError):
                continue
            if int(fields[1]) == master:
                found.append(int(entry.name))
    return sorted(found)


def rss_mb(pid):
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def memory(master):
    return [rss_mb(pid) for pid in workers(master)]


def request(port, method, path, headers=None, body=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        cookies = SimpleCookie()
        for value in response.msg.get_all("Set-Cookie") or []:
            cookies.load(value)
        return response.status, response, {k: m.value for k, m in cookies.items()}, data
    finally:
        conn.close()


def sign_in(port, email, password):
    """The sign-in form as a browser sends it: its CSRF cookie and token, then a POST."""
    from urllib.parse import urlencode

    status, _, cookies, body = request(port, "GET", "/accounts/login/")
    assert status == 200, status
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body).group(1).decode()
    csrf = cookies["csrftoken"]
    status, response, cookies, _ = request(
        port,
        "POST",
        "/accounts/login/",
        headers={
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
            "Referer": f"http://127.0.0.1:{port}/accounts/login/",
        },
        body=urlencode({"username": email, "password": password, "csrfmiddlewaretoken": token}),
    )
    assert status == 302 and "sessionid" in cookies, (email, status)
    return {"Cookie": f"sessionid={cookies['sessionid']}; csrftoken={csrf}"}


def open_link(port, token):
    """The personal link: a 303 with a buyer session, then the room, whose page carries
    the live ticket and the revision; then the poll brought up to date (like live.js)."""
    status, _, cookies, _ = request(port, "GET", f"/b/{token}/")
    assert status == 303 and "sessionid" in cookies, status
    headers = {"Cookie": f"sessionid={cookies['sessionid']}"}
    status, _, _, body = request(port, "GET", "/b/room/", headers=headers)
    assert status == 200, status
    page = body.decode()
    ticket = html.unescape(re.search(r'data-live-ticket="([^"]*)"', page).group(1))
    revision = int(re.search(r'data-revision="(\d+)"', page).group(1))
    poll = {**headers, "HX-Request": "true", "X-Live-Ticket": ticket}
    here = ""
    for _ in range(3):
        status, response, _, body = request(
            port, "GET", f"/b/room/live/?rev={revision}&here={here}&p=1", headers=poll
        )
        if status == 200:
            revision = int(response.getheader("X-Room-Revision"))
            found = DIGEST.search(body.decode())
            if found:
                here = found.group(1)
    return headers, (f"/b/room/live/?rev={revision}&here={here}", poll)


async def closed_loop(http_session, url, headers, connections, seconds, expect):
    """CONNECTIONS clients, each sending its next request when the last one is answered."""
    count, bad, size = 0, {}, 0
    deadline = time.perf_counter() + seconds

    async def client():
        nonlocal count, size
        while time.perf_counter() < deadline:
            async with http_session.get(url, headers=headers, allow_redirects=False) as response:
                body = await response.read()
                if response.status == expect:
                    count += 1
                    size = len(body)
                else:
                    bad[response.status] = bad.get(response.status, 0) + 1

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    return count / (time.perf_counter() - started), bad, size


async def load(port, targets, args):
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=args.connections)  # keep-alive, reused
    async with aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=30),
        cookie_jar=aiohttp.DummyCookieJar(),
    ) as http_session:
        for _label, path, headers, expect in targets:  # every worker has seen every page
            await closed_loop(http_session, base + path, headers, args.connections, 0.5, expect)
        rounds = []
        for _ in range(args.rounds):
            results = []
            for label, path, headers, expect in targets:
                url = base + path
                await closed_loop(http_session, url, headers, args.connections, args.warmup, expect)
                rps, bad, size = await closed_loop(
                    http_session, url, headers, args.connections, args.seconds, expect
                )
                results.append({"page": label, "rps": rps, "bad": bad, "bytes": size})
            rounds.append(results)
        return rounds


def combine(rounds):
    """One line a page: the median over rounds of its req/s and of its ratio to the mean
    of the two /healthz runs of the same round (so a burst of load elsewhere on the
    machine weighs on both sides of a ratio), with the ratios' spread."""
    combined = []
    for i, first in enumerate(rounds[0]):
        ratios, bad = [], {}
        for results in rounds:
            healthz = (results[0]["rps"] + results[-1]["rps"]) / 2
            ratios.append(results[i]["rps"] / healthz)
            for status, n in results[i]["bad"].items():
                bad[status] = bad.get(status, 0) + n
        combined.append(
            {
                "page": first["page"],
                "rps": statistics.median(r[i]["rps"] for r in rounds),
                "ratio": statistics.median(ratios),
                "ratios": ratios,
                "bad": bad,
                "bytes": first["bytes"],
            }
        )
    return combined


# --- one database, start to end ---------------------------------------------------------


def run_one(backend, args):
    data_dir = Path(tempfile.mkdtemp(prefix=f"mapsite-pages-bench-{backend}-"))
    where = (
        f"PostgreSQL {DB_URL} (fresh) + Redis {REDIS_URL}"
        if backend == "pg"
        else "SQLite + file cache (embedded default)"
    )
    print(f"== {where}; data in {data_dir}", flush=True)
    started = time.perf_counter()
    prepare(backend, data_dir)
    d = demo()
    print(
        f"demo prepared as `make run` does in {time.perf_counter() - started:.1f} s; "
        f"room {d['room_name']!r}: {d['milestones']} milestones, {d['tasks']} tasks",
        flush=True,
    )
    cs = clients(d)
    queries = count_queries(d, cs)
    profiled = profile(d, cs, args.profile_runs) if args.profile_runs else {}
    from django.db import connections

    connections.close_all()

    server = start_server(args.port or free_port())
    port = int(server.args[server.args.index("--bind") + 1].rsplit(":", 1)[1])
    try:
        seller = sign_in(port, d["seller"], d["password"])
        manager = sign_in(port, d["manager"], d["password"])
        buyer, (poll_path, poll_headers) = open_link(port, d["token"])
        who = {"seller": seller, "manager": manager, "buyer": buyer}
        targets = [("/healthz", "/healthz", {}, 200)]
        targets += [(label, path, who[w], 200) for label, w, path in pages(d)]
        targets += [("live poll, nothing changed", poll_path, poll_headers, 204)]
        targets += [("/healthz (again)", "/healthz", {}, 200)]
        before = memory(server.pid)
        rounds = asyncio.run(load(port, targets, args))
        after = memory(server.pid)
    finally:
        stop_server(server)
        if backend == "pg" and not args.keep:
            from django.core.cache import cache

            cache.clear()
            pgdb.recreate(DB_URL, drop_only=True)
        if not args.keep:
            shutil.rmtree(data_dir, ignore_errors=True)

    results = combine(rounds)
    healthz = (results[0]["rps"] + results[-1]["rps"]) / 2
    for r in results:
        r["queries"] = queries.get(r["page"].replace(" (again)", ""))
    report(backend, args, results, healthz, before, after, profiled)
    return {
        "backend": backend,
        "results": results,
        "healthz": healthz,
        "rss_before": before,
        "rss_after": after,
        "profile": profiled,
    }


def report(backend, args, results, healthz, before, after, profiled):
    print()
    print(
        f"{args.connections} concurrent keep-alive clients, {args.seconds:g} s a page after "
        f"{args.warmup:g} s of warm-up; ratio to the mean of the two /healthz runs "
        f"({healthz:,.0f}/s)"
        + (
            f"; median of {args.rounds} rounds, each round's ratios in brackets"
            if args.rounds > 1
            else ""
        )
    )
    print(f"{'page':30} {'req/s':>8} {'ratio':>7} {'HTML':>9} {'SQL':>4}  answers")
    for r in results:
        size = f"{r['bytes'] / 1024:.1f} KB" if r["bytes"] > 2048 else f"{r['bytes']} B"
        queries = r["queries"] or ""
        bad = ", ".join(f"{n} x {status}" for status, n in sorted(r["bad"].items()))
        spread = " ".join(f"{x:.3f}" for x in r["ratios"]) if args.rounds > 1 else ""
        print(
            f"{r['page']:30} {r['rps']:8,.0f} {r['ratio']:7.3f} {size:>9} {queries:>4}  "
            f"{'all as expected' if not bad else 'UNEXPECTED: ' + bad}"
            + (f"  ({spread})" if spread else "")
        )
    print(
        "gunicorn workers' memory (VmRSS): "
        f"{' + '.join(f'{m:.0f}' for m in before)} MB before, "
        f"{' + '.join(f'{m:.0f}' for m in after)} MB after "
        f"({sum(r['rps'] for r in results) * args.seconds * args.rounds:,.0f} requests measured)"
    )
    for label, p in profiled.items():
        print()
        print(
            f"in process, {label}: {p['ms']:.1f} ms a request ({args.profile_runs} requests): "
            f"template rendering {p['template']:.1f} ms, SQL {p['sql']:.1f} ms "
            f"({p['queries']:.0f} queries, {p['sql_in_template']:.1f} ms of it run by the "
            f"template), the rest (view, middleware, services) {p['other']:.1f} ms"
        )
        print("  by own time (cProfile, whose overhead about doubles the times; ms a request):")
        for ms, calls, where in p["own"]:
            print(f"    {ms:6.2f} ms {calls:8.0f} calls  {where}")
        print("  app code by cumulative time (ms a request):")
        for ms, calls, where in p["app"]:
            print(f"    {ms:6.2f} ms {calls:8.0f} calls  {where}")
    print(flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--sqlite", action="store_true", help="the embedded default only")
    which.add_argument("--pg", action="store_true", help="PostgreSQL + Redis only")
    which.add_argument("--backend", choices=["sqlite", "pg"], help=argparse.SUPPRESS)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=5, help="measured time a page")
    parser.add_argument("--warmup", type=float, default=1, help="warm-up time a page")
    parser.add_argument(
        "--profile-runs", type=int, default=30, help="requests profiled a room (0: none)"
    )
    parser.add_argument(
        "--rounds", type=int, default=3, help="times the whole sequence is measured"
    )
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 s a page")
    parser.add_argument(
        "--keep", action="store_true", help="keep the data dir and the PostgreSQL database"
    )
    parser.add_argument("--json", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.quick:
        args.seconds, args.warmup, args.rounds = 1, 0.3, 1
        args.profile_runs = min(args.profile_runs, 3)

    if args.backend:  # one database, in this process (Django is set up once a process)
        outcome = run_one(args.backend, args)
        if args.json:
            Path(args.json).write_text(json.dumps(outcome))
        return 1 if any(r["bad"] for r in outcome["results"]) else 0

    if args.pg:
        backends = ["pg"]
    elif args.sqlite:
        backends = ["sqlite"]
    else:
        backends = ["sqlite"]
        if answers(5432) and answers(6379):
            backends.append("pg")
        else:
            print("PostgreSQL or Redis does not answer on 127.0.0.1: SQLite only")
    passed = [a for a in sys.argv[1:] if a not in ("--sqlite", "--pg")]
    failed, outcomes = False, []
    for backend in backends:
        with tempfile.NamedTemporaryFile(suffix=".json") as out:
            done = subprocess.run(
                [sys.executable, __file__, "--backend", backend, "--json", out.name, *passed]
            )
            failed |= done.returncode != 0
            text = Path(out.name).read_text()
            if text:
                outcomes.append(json.loads(text))
    if len(outcomes) > 1:
        summary(outcomes)
    return 1 if failed else 0


def summary(outcomes):
    print("== ratio to /healthz, one line a database")
    labels = [r["page"] for r in outcomes[0]["results"][1:-1]]
    print(f"{'':20} {'/healthz':>10}  " + "  ".join(labels))
    for o in outcomes:
        name = "PostgreSQL + Redis" if o["backend"] == "pg" else "SQLite (embedded)"
        print(
            f"{name:20} {o['healthz']:8,.0f}/s  "
            + "  ".join(
                f"{r['ratio']:>{len(label)}.3f}"
                for r, label in zip(o["results"][1:-1], labels, strict=True)
            )
        )


if __name__ == "__main__":
    sys.exit(main())
