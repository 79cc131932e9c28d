"""The app server as the benchmarks run it: a data dir prepared as `make run` prepares
it, gunicorn started as `make run` starts it (``start_server``) or with the workers and
threads given (``start_gunicorn``), stopped, a free port, whether a port answers, and
the memory (VmRSS) of the server's workers."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench import pgdb

ROOT = Path(__file__).resolve().parent.parent
MAKE_RUN_STEPS = [  # what `make run` does before it starts the processes
    ["migrate", "--noinput", "-v0"],
    ["collectstatic", "--noinput", "-v0"],
    ["seed_demo"],
    ["recount_room_signals"],
    ["scan_overdue"],
]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def prepare(backend, data_dir, *, db_url, redis_url):
    """The data dir (and, for ``pg``, a fresh PostgreSQL database at ``db_url`` and Redis
    at ``redis_url``) prepared as `make run` does, and Django set up against it."""
    os.environ.update(
        MAPSITE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="mapsite.settings",
        LOG_LEVEL="WARNING",
    )
    if backend == "pg":
        pgdb.recreate(db_url)
        os.environ.update(DATABASE_URL=db_url, REDIS_URL=redis_url)
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


def tree_rss_mb(pid):
    """Resident memory of a process and its children, in MB."""
    return sum(rss_mb(p) for p in [pid, *workers(pid)])


def start_gunicorn(port, workers, threads):
    """gunicorn on the app with WORKERS x THREADS, its log at warning level."""
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
