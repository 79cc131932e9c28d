"""In process, through Django's test client against the benchmark's database: the demo's
clients signed in, the pages measured, the SQL queries of each, and where a room's
request time goes (``Split``: template rendering, SQL and the rest; cProfile's top
entries, app code apart)."""

import cProfile
import itertools
import pstats
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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

    from bench._live import poll_query_count
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
