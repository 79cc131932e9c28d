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
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import pgdb  # noqa: E402
from bench._http import closed_loop, sign_in  # noqa: E402
from bench._in_process import clients, count_queries, pages, profile  # noqa: E402
from bench._live import open_link  # noqa: E402
from bench._server import (  # noqa: E402
    answers,
    free_port,
    memory,
    prepare,
    start_server,
    stop_server,
)

DB_URL = pgdb.database_url("mapsite_pages_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
DEMO_ROOM = "Acme Corp"
BUYER = "Maria Lopez"


# --- the demo's data -------------------------------------------------------------------


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


# --- over HTTP: load ---------------------------------------------------------------------


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
    prepare(backend, data_dir, db_url=DB_URL, redis_url=REDIS_URL)
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
