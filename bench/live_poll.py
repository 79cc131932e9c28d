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
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bench import pgdb  # noqa: E402
from bench._live import (  # noqa: E402
    DIGEST,
    make_rooms,
    open_links,
    poll_query_count,
    seller_login,
    seller_windows,
    viewer_headers,
    window_id,
)
from bench._server import free_port, start_gunicorn, tree_rss_mb  # noqa: E402

DB_URL = pgdb.database_url("mapsite_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")


def setup_env(data_dir):
    pgdb.setup(DB_URL, data_dir, ALLOWED_HOSTS="127.0.0.1,localhost", LOG_LEVEL="WARNING")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    from django.core.cache import cache

    cache.clear()


def pct(values, q):
    values = sorted(values)
    if not values:
        return float("nan")
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


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
    pgdb.recreate(DB_URL)
    setup_env(data_dir)
    t0 = time.perf_counter()
    rooms = make_rooms(args.rooms, args.viewers, args.seller_windows)
    print(
        f"created {args.rooms} rooms x ({args.viewers} buyers + {args.seller_windows} of the"
        f" editing seller's windows) in {time.perf_counter() - t0:.1f} s"
    )
    queries = poll_query_count(rooms[0]["tokens"][0])
    port = free_port()
    server = start_gunicorn(port, args.workers, args.threads)
    try:
        time.sleep(1)
        mem_before = tree_rss_mb(server.pid)
        (latencies, timeouts, polls, elapsed), (trivial_rps, poll_rps, presence_rps) = asyncio.run(
            run(args, rooms, port)
        )
        mem_after = tree_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=20)
        if not args.keep:
            pgdb.recreate(DB_URL, drop_only=True)

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
