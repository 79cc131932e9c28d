"""Run the whole of mapsite on one machine: `python -m mapsite.run`.

Starts three processes and looks after them until asked to stop:

    web     gunicorn serving mapsite.wsgi (HOST:PORT, default 127.0.0.1:8000)
    worker  a Celery worker (one task at a time)
    beat    the Celery beat scheduler (the single one for this database)

Each child runs in its own process group, so Ctrl-C in the terminal reaches this
supervisor only; it then stops every child, SIGTERM first and SIGKILL for any that
has not exited after STOP_TIMEOUT seconds. If a child exits on its own, the others
are stopped too and the supervisor exits non-zero, naming the child.

Environment: HOST, PORT, WEB_CONCURRENCY (gunicorn workers, default 2),
WEB_THREADS (threads per gunicorn worker, default 4), LOG_LEVEL (default INFO).
Database, broker and the rest come from mapsite.settings as usual.

`make run` migrates, collects static files and seeds the demo first, then runs this.
"""

import contextlib
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from django.conf import settings

STOP_TIMEOUT = 10.0  # seconds a child gets between SIGTERM and SIGKILL
READY_TIMEOUT = 30.0  # seconds to wait for every child to say it is ready before the banner
BASE_DIR = Path(__file__).resolve().parent.parent

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mapsite.settings")
_print_lock = threading.Lock()


def say(line):
    """Print one line of the supervisor's own, never interleaved with a child's."""
    with _print_lock:
        sys.stdout.write(f"mapsite | {line}\n")
        sys.stdout.flush()


class Child:
    """One supervised process whose output is forwarded line by line with a prefix.

    `ready_text` is a piece of the line the child logs once it is ready for work.
    """

    def __init__(self, name, argv, env, ready_text):
        self.name = name
        self.argv = argv
        self.env = env
        self.ready_text = ready_text
        self.ready = threading.Event()
        self.proc = None
        self.output = None

    def start(self):
        self.proc = subprocess.Popen(
            self.argv,
            cwd=BASE_DIR,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # own process group: the terminal's Ctrl-C stays ours
        )
        self.output = threading.Thread(target=self._forward, name=f"{self.name}-output")
        self.output.daemon = True
        self.output.start()

    def _forward(self):
        prefix = f"{self.name:<7}| "
        for raw in iter(self.proc.stdout.readline, b""):
            text = raw.decode("utf-8", "replace").rstrip("\n")
            if self.ready_text in text:
                self.ready.set()
            with _print_lock:
                sys.stdout.write(prefix + text + "\n")
                sys.stdout.flush()
        self.proc.stdout.close()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def signal_group(self, signum):
        """Send a signal to the child's whole process group (it and anything it forked)."""
        if self.proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signum)


def build_children(host, port):
    python = sys.executable
    bindir = Path(python).parent
    celery = str(bindir / "celery")
    gunicorn = str(bindir / "gunicorn")

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log_level = os.environ.get("LOG_LEVEL", "INFO").upper()
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    web = [
        gunicorn,
        "mapsite.wsgi",
        "--bind", bind,
        "--workers", os.environ.get("WEB_CONCURRENCY", "2"),
        "--threads", os.environ.get("WEB_THREADS", "4"),
        "--graceful-timeout", "5",
        "--access-logfile", "-",
        "--logger-class", "mapsite.gunicorn_logging.RedactingLogger",
        "--no-control-socket",
    ]  # fmt: skip
    worker = [
        celery, "-A", "mapsite", "worker",
        "--pool=solo", "--concurrency=1",
        f"--loglevel={log_level}",
        # Nothing else listens for worker-to-worker chatter on one machine.
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip
    beat = [
        celery, "-A", "mapsite", "beat",
        f"--loglevel={log_level}",
        "--schedule", str(settings.CELERY_BEAT_SCHEDULE_FILENAME),
    ]  # fmt: skip
    return [
        Child("web", web, env, ready_text="Listening at:"),
        Child("worker", worker, env, ready_text=" ready."),
        Child("beat", beat, env, ready_text="beat: Starting"),
    ]


def port_in_use(host, port):
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.errno == errno.EADDRINUSE
    return False


def accepting(host, port):
    target = "127.0.0.1" if host in ("0.0.0.0", "") else ("::1" if host == "::" else host)
    try:
        with socket.create_connection((target, port), timeout=0.5):
            return True
    except OSError:
        return False


def how_it_ended(returncode):
    if returncode < 0:
        return f"was killed by {signal.Signals(-returncode).name}"
    return f"exited unexpectedly with status {returncode}"


def stop_all(children):
    """SIGTERM every running child, wait up to STOP_TIMEOUT, then SIGKILL what is left."""
    for child in children:
        if child.running():
            child.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + STOP_TIMEOUT
    while any(c.running() for c in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    for child in children:
        if child.running():
            say(f"{child.name} did not stop within {STOP_TIMEOUT:.0f} s; killing it")
        # Also catches anything a child forked that outlived it.
        child.signal_group(signal.SIGKILL)
        if child.proc is not None:
            child.proc.wait()
        if child.output is not None:
            child.output.join(timeout=2)  # let its last lines through


def show_banner(url):
    say("")
    say(f"mapsite is running at {url}")
    say("  web (gunicorn), worker and beat (Celery) are up. Sign in with the demo")
    say("  seller's email and password printed above. Press Ctrl-C to stop.")
    say("")


def main():
    host = os.environ.get("HOST", "127.0.0.1")
    port = int(os.environ.get("PORT", "8000"))

    if port_in_use(host, port):
        say(f"port {port} on {host} is already in use (is mapsite already running?).")
        say("Stop the other server, or choose another port: PORT=8001 make run")
        return 1

    stop_requested = threading.Event()
    received = []

    def on_signal(signum, _frame):
        # Only note it here; the main loop does the talking and the stopping.
        received.append(signal.Signals(signum).name)
        stop_requested.set()

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGHUP, on_signal)

    children = build_children(host, port)
    try:
        for child in children:
            child.start()
            say(f"started {child.name} (pid {child.proc.pid})")

        shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
        url = f"http://[{shown}]:{port}" if ":" in shown else f"http://{shown}:{port}"
        started = time.monotonic()
        banner_shown = False
        failed = None
        while not stop_requested.is_set():
            failed = next((c for c in children if not c.running()), None)
            if failed is not None:
                break
            if not banner_shown:
                ready = all(c.ready.is_set() for c in children) and accepting(host, port)
                if ready or time.monotonic() - started > READY_TIMEOUT:
                    banner_shown = True
                    show_banner(url)
            stop_requested.wait(0.25)
        if failed is not None:
            say(f"{failed.name} {how_it_ended(failed.proc.returncode)}; stopping the others.")
        else:
            say(f"received {received[0] if received else 'a signal'}, stopping…")
    finally:
        stop_all(children)

    if failed is not None:
        say(f"stopped: {failed.name} ended unexpectedly (its output is above).")
        return 1
    say("stopped.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
