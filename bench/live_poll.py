"""Live updates under load, against the real app server on PostgreSQL and Redis.

    .venv/bin/pip install ".[bench]"
    .venv/bin/python bench/live_poll.py [--rooms 50] [--viewers 10] [--seconds 30]

What it does, in one run on one machine:
1. creates a fresh PostgreSQL database (BENCH_DATABASE_URL, default
   postgres://postgres@127.0.0.1:5432/mapsite_bench) and migrates it; Redis db 15
   (BENCH_REDIS_URL) is the cache and session store;
2. creates ROOMS rooms with a Standard plan and VIEWERS buyer stakeholders each, and a
   personal link per viewer;
3. starts gunicorn (the same server `make run` uses) and opens every link;
4. live phase: every viewer polls like static/js/live.js (one request, then a 1 s
   pause) while editors change task notes through the seller's HTTP endpoint, each
   from a window of its own (X-Live-Window); besides the buyers, SELLER_WINDOWS more
   windows per room belong to the same seller who edits. For each edit, the time until
   each viewer of that room has seen the new revision (edit-to-visible) is recorded,
   and each of the seller's other windows must have received the task's row with it;
5. throughput phase: a closed loop of concurrent clients on a trivial Django view
   (/healthz) and on the "nothing changed" poll, alternated; the ratio is reported;
6. counts the SQL queries of a "nothing changed" poll (in process, same database);
7. reports the web processes' memory (RSS) before and after.
Figures are printed as ratios to baselines measured in the same run.
"""

import argparse
import asyncio
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/mapsite_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
PASSWORD = "bench-password-2026"


def fresh_database():
    import psycopg

    parsed = urlparse(DB_URL)
    name = parsed.path.lstrip("/")
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database():
    import psycopg

    parsed = urlparse(DB_URL)
    admin = parsed._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{parsed.path.lstrip("/")}" WITH (FORCE)')


def setup_env(data_dir):
    os.environ.update(
        DATABASE_URL=DB_URL,
        REDIS_URL=REDIS_URL,
        MAPSITE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="mapsite.settings",
        ALLOWED_HOSTS="127.0.0.1,localhost",
        LOG_LEVEL="WARNING",
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
    from django.core.cache import cache

    cache.clear()


def make_rooms(n_rooms, n_viewers, n_seller_windows):
    import datetime

    from django.utils import timezone

    from accounts.models import Membership
    from accounts.services import org_create
    from plans.live.tickets import buyer_ticket, seller_ticket
    from plans.models import Task
    from plans.services import plan_start
    from rooms.actors import Actor
    from rooms.services import room_create
    from stakeholders.links import link_issue
    from stakeholders.services import stakeholder_create

    org, seller = org_create(name="Bench Org", email="seller@bench.example", password=PASSWORD)
    membership = Membership.objects.get(org=org, user=seller)
    actor = Actor(user=seller)
    rooms = []
    for r in range(n_rooms):
        room = room_create(
            membership=membership,
            actor=actor,
            name=f"Deal {r}",
            buyer_company=f"Buyer {r}",
            target_close_date=timezone.now().date() + datetime.timedelta(days=60),
        )
        plan_start(actor=actor, room=room, template_slug="standard")
        tokens = []
        for v in range(n_viewers):
            person = stakeholder_create(
                actor=actor,
                room=room,
                name=f"Viewer {r}-{v}",
                side="buyer",
                email=f"v{r}-{v}@buyer.example",
            )
            link, token = link_issue(actor=actor, room=room, stakeholder=person)
            tokens.append((token, buyer_ticket(link.pk, room.pk)))
        task = Task.objects.for_room(room).order_by("order").first()
        rooms.append(
            {
                "id": str(room.pk),
                "task": str(task.pk),
                "version": task.version,
                "tokens": tokens,
                "seller_tickets": [seller_ticket(seller.pk, room.pk)] * n_seller_windows,
            }
        )
    return rooms


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port, workers, threads):
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "mapsite.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--log-level",
            "warning",
            "--logger-class",
            "mapsite.gunicorn_logging.RedactingLogger",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    for _ in range(100):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise SystemExit("gunicorn did not start")


def rss_mb(pid):
    """Resident memory of a process and its children, in MB."""
    pids = [pid]
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    pids.append(int(entry.name))
            except (OSError, IndexError):
                continue
    total = 0
    for p in pids:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


DIGEST = re.compile(r'data-digest="([0-9a-f]*)"')


def window_id():
    return os.urandom(16).hex()


def viewer_headers(viewer):
    return {
        "Cookie": f"sessionid={viewer['cookie']}",
        "HX-Request": "true",
        "X-Live-Ticket": viewer["ticket"],
    }


async def open_links(http, base, rooms):
    """Each viewer opens its link once: a session cookie per viewer."""
    viewers = []
    sem = asyncio.Semaphore(20)

    async def open_one(room, token, ticket):
        async with sem, http.get(f"{base}/b/{token}/", allow_redirects=False) as response:
            assert response.status == 303, response.status
            cookie = response.cookies["sessionid"].value
        viewers.append(
            {
                "room": room["id"],
                "kind": "buyer",
                "url": f"{base}/b/room/live/",
                "cookie": cookie,
                "ticket": ticket,
                "window": window_id(),
                "rev": 0,
                "here": "",
                "n": 0,
            }
        )

    await asyncio.gather(*(open_one(r, t, k) for r in rooms for t, k in r["tokens"]))
    return viewers


def seller_windows(base, rooms, seller):
    """The editing seller's own other windows on each room (a second screen, a tab)."""
    return [
        {
            "room": room["id"],
            "kind": "seller",
            "url": f"{base}/rooms/{room['id']}/live/",
            "row": f'id="task-{room["task"]}"',
            "cookie": seller["session"],
            "ticket": ticket,
            "window": window_id(),
            "rev": 0,
            "here": "",
            "n": 0,
        }
        for room in rooms
        for ticket in room["seller_tickets"]
    ]


async def seller_login(http, base):
    async with http.get(f"{base}/accounts/login/") as response:
        await response.read()
        csrf = response.cookies["csrftoken"].value
    async with http.post(
        f"{base}/accounts/login/",
        data={
            "username": "seller@bench.example",
            "password": PASSWORD,
            "csrfmiddlewaretoken": csrf,
        },
        headers={"Cookie": f"csrftoken={csrf}", "Referer": f"{base}/accounts/login/"},
        allow_redirects=False,
    ) as response:
        assert response.status == 302, response.status
        return {"session": response.cookies["sessionid"].value, "csrf": csrf}


async def live_phase(http, base, rooms, viewers, seconds, editors):
    import psycopg

    stop = asyncio.Event()  # viewers
    stop_editing = asyncio.Event()
    polls = {"count": 0, "errors": 0, "rows_missing": 0}
    seller = await seller_login(http, base)
    viewers = viewers + seller_windows(base, rooms, seller)
    by_room = {}
    for i, v in enumerate(viewers):
        by_room.setdefault(v["room"], []).append(i)
    waiters = {}  # room -> (target revision, {viewer: time}, event)

    async def viewer_loop(i, v):
        await asyncio.sleep(random.random())  # viewers don't start in lockstep
        while not stop.is_set():
            params = {"rev": v["rev"], "here": v["here"], "w": v["window"]}
            if v["n"] % 4 == 0:  # like live.js: every fourth poll refreshes "who's here"
                params["p"] = "1"
            v["n"] += 1
            try:
                async with http.get(
                    v["url"],
                    params=params,
                    headers=viewer_headers(v),
                ) as response:
                    body = await response.text()
                    now = time.perf_counter()
                    polls["count"] += 1
                    if response.status == 200:
                        v["rev"] = int(response.headers["X-Room-Revision"])
                        found = DIGEST.search(body)
                        if found:
                            v["here"] = found.group(1)
                        wait = waiters.get(v["room"])
                        if wait and v["rev"] >= wait[0] and i not in wait[1]:
                            wait[1][i] = now
                            # The seller's other window gets the row itself, not just
                            # the news that something changed.
                            if v["kind"] == "seller" and v["row"] not in body:
                                polls["rows_missing"] += 1
                            if len(wait[1]) == len(by_room[v["room"]]):
                                wait[2].set()
                    elif response.status != 204:
                        polls["errors"] += 1
            except Exception:
                polls["errors"] += 1
            await asyncio.sleep(1.0)

    latencies, timeouts = [], 0  # latencies: (viewer kind, seconds)
    editor_windows = [window_id() for _ in range(editors)]
    conn = await psycopg.AsyncConnection.connect(DB_URL, autocommit=True)

    async def editor_loop(mine, window):
        nonlocal timeouts
        n = 0
        while not stop_editing.is_set():
            room = mine[n % len(mine)]
            n += 1
            url = f"{base}/rooms/{room['id']}/plan/tasks/{room['task']}/"
            async with http.post(
                url,
                data={
                    "_field": "notes",
                    "notes": f"edit {n} {time.time()}",
                    "version": room["version"],
                },
                headers={
                    "Cookie": f"sessionid={seller['session']}; csrftoken={seller['csrf']}",
                    "X-CSRFToken": seller["csrf"],
                    "HX-Request": "true",
                    "X-Live-Window": window,
                    "Referer": f"{base}/",
                },
            ) as response:
                await response.read()
                done = time.perf_counter()
                if response.status != 200:
                    continue
            room["version"] += 1
            cur = await conn.execute("SELECT revision FROM rooms_room WHERE id = %s", (room["id"],))
            target = (await cur.fetchone())[0]
            event = asyncio.Event()
            waiters[room["id"]] = (target, {}, event)
            # A viewer may already have seen it between commit and now.
            for i in by_room[room["id"]]:
                if viewers[i]["rev"] >= target:
                    waiters[room["id"]][1][i] = done
            try:
                if len(waiters[room["id"]][1]) < len(by_room[room["id"]]):
                    await asyncio.wait_for(event.wait(), timeout=10)
            except TimeoutError:
                timeouts += 1
            for i, t in waiters.pop(room["id"])[1].items():
                latencies.append((viewers[i]["kind"], max(0.0, t - done)))
            await asyncio.sleep(random.random() * 0.5)

    tasks = [asyncio.create_task(viewer_loop(i, v)) for i, v in enumerate(viewers)]
    await asyncio.sleep(2)  # everyone's first poll (presence) is out of the way
    share = [rooms[i::editors] for i in range(editors)]
    edit_tasks = [
        asyncio.create_task(editor_loop(m, w))
        for m, w in zip(share, editor_windows, strict=True)
        if m
    ]
    started = time.perf_counter()
    await asyncio.sleep(seconds)
    # Stop editing first; viewers keep polling until every edit in flight is seen.
    stop_editing.set()
    await asyncio.gather(*edit_tasks, return_exceptions=True)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    await conn.close()
    elapsed = time.perf_counter() - started
    return latencies, timeouts, polls, elapsed


async def closed_loop(http, url, headers, concurrency, seconds):
    count = 0
    bad = 0
    deadline = time.perf_counter() + seconds

    async def worker():
        nonlocal count, bad
        while time.perf_counter() < deadline:
            async with http.get(url, headers=headers) as response:
                await response.read()
                if response.status in (200, 204):
                    count += 1
                else:
                    bad += 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return count / seconds, bad


async def throughput_phase(http, base, viewer, concurrency, seconds, rounds):
    # Bring the viewer up to date, so its poll is the "nothing changed" one.
    headers = viewer_headers(viewer)
    for _ in range(3):
        async with http.get(
            f"{base}/b/room/live/",
            params={"rev": viewer["rev"], "here": viewer["here"], "p": "1"},
            headers=headers,
        ) as response:
            body = await response.text()
            if response.status == 200:
                viewer["rev"] = int(response.headers["X-Room-Revision"])
                found = DIGEST.search(body)
                if found:
                    viewer["here"] = found.group(1)
    poll_url = f"{base}/b/room/live/?rev={viewer['rev']}&here={viewer['here']}"
    trivial, polls, with_presence = [], [], []
    for _ in range(rounds):
        trivial.append((await closed_loop(http, f"{base}/healthz", {}, concurrency, seconds))[0])
        polls.append((await closed_loop(http, poll_url, headers, concurrency, seconds))[0])
        with_presence.append(
            (await closed_loop(http, poll_url + "&p=1", headers, concurrency, seconds))[0]
        )
    return (statistics.median(trivial), statistics.median(polls), statistics.median(with_presence))


def poll_query_count(token):
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    token, ticket = token
    client = Client(HTTP_HOST="127.0.0.1", HTTP_X_LIVE_TICKET=ticket)
    client.get(f"/b/{token}/")
    first = client.get("/b/room/live/", {"rev": 0, "p": "1"})
    revision = int(first["X-Room-Revision"])
    digest = DIGEST.search(first.content.decode()).group(1)
    counts = []
    for extra in ({}, {"p": "1"}):
        with CaptureQueriesContext(connection) as ctx:
            response = client.get("/b/room/live/", {"rev": revision, "here": digest, **extra})
        assert response.status_code == 204, response.status_code
        counts.append(len(ctx.captured_queries))
    return max(counts)


async def run(args, rooms, port):
    import aiohttp

    base = f"http://127.0.0.1:{port}"
    connector = aiohttp.TCPConnector(limit=args.connections)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, cookie_jar=aiohttp.DummyCookieJar()
    ) as http:
        viewers = await open_links(http, base, rooms)
        live = await live_phase(http, base, rooms, viewers, args.seconds, args.editors)
        through = await throughput_phase(
            http, base, viewers[0], args.concurrency, args.throughput_seconds, args.rounds
        )
    return live, through


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rooms", type=int, default=50)
    parser.add_argument("--viewers", type=int, default=10)
    parser.add_argument(
        "--seller-windows",
        type=int,
        default=1,
        help="windows per room of the seller who edits (other than the editing one)",
    )
    parser.add_argument("--seconds", type=int, default=30, help="length of the live phase")
    parser.add_argument("--editors", type=int, default=5)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--connections", type=int, default=128)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--throughput-seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args()

    data_dir = Path(tempfile.mkdtemp(prefix="mapsite-bench-"))
    print(f"database {DB_URL} (fresh), cache {REDIS_URL}")
    fresh_database()
    setup_env(data_dir)
    t0 = time.perf_counter()
    rooms = make_rooms(args.rooms, args.viewers, args.seller_windows)
    print(
        f"created {args.rooms} rooms x ({args.viewers} buyers + {args.seller_windows} of the"
        f" editing seller's windows) in {time.perf_counter() - t0:.1f} s"
    )
    queries = poll_query_count(rooms[0]["tokens"][0])
    port = free_port()
    server = start_server(port, args.workers, args.threads)
    try:
        time.sleep(1)
        mem_before = rss_mb(server.pid)
        (latencies, timeouts, polls, elapsed), (trivial_rps, poll_rps, presence_rps) = asyncio.run(
            run(args, rooms, port)
        )
        mem_after = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if not args.keep:
            drop_database()

    per_room = args.viewers + args.seller_windows
    print()
    print(
        f"viewers: {args.rooms * per_room} polling every ~1 s; "
        f"{polls['count'] / elapsed:.0f} polls/s over {elapsed:.0f} s, {polls['errors']} errors"
    )
    print(
        f"edits: {len(latencies) // max(per_room, 1)} measured "
        f"({len(latencies)} viewer observations), {timeouts} not seen within 10 s"
    )
    for kind, label in ((None, "everyone"), ("buyer", "buyers"), ("seller", "seller's windows")):
        seen = [t for k, t in latencies if kind is None or k == kind]
        if not seen:
            continue  # no such viewers in this run (--seller-windows 0)
        print(
            f"edit-to-visible, {label:17} p50 {pct(seen, 0.5):.3f} s   p95 {pct(seen, 0.95):.3f} s"
            f"   p99 {pct(seen, 0.99):.3f} s   (target p95 <= 1.5 s)"
        )
    print(
        f"the editing seller's other windows: the task's row came with the news in every"
        f" observation but {polls['rows_missing']} (target 0)"
    )
    print(
        f"'nothing changed' poll: {queries} SQL quer{'y' if queries == 1 else 'ies'} (target <= 1)"
    )
    mix = 4 / (3 / poll_rps + 1 / presence_rps)  # three plain polls, one with presence
    print(
        f"throughput, {args.concurrency} concurrent clients: trivial view {trivial_rps:.0f}/s;"
        f" nothing-changed poll {poll_rps:.0f}/s (ratio {poll_rps / trivial_rps:.2f}),"
        f" with presence {presence_rps:.0f}/s (ratio {presence_rps / trivial_rps:.2f}),"
        f" as live.js mixes them {mix:.0f}/s (ratio {mix / trivial_rps:.2f}; target >= 0.5)"
    )
    print(
        f"web processes' memory (RSS): {mem_before:.0f} MB before, {mem_after:.0f} MB after "
        f"({mem_after / mem_before:.2f}x)"
    )


if __name__ == "__main__":
    main()
