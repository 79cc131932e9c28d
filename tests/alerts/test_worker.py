"""A real Celery worker process, a real Redis broker, no eager mode.

Runs when REDIS_URL is set and the tests run on PostgreSQL (CI's second pass, against
127.0.0.1:5432 and :6379): the worker is another process, so it must reach the test
database by name, which an in-process SQLite test run cannot offer it.
"""

import os
import signal
import subprocess
import sys
import time
import uuid
from urllib.parse import quote

import pytest
import redis
from django.conf import settings
from django.db import connection

from alerts.models import Notification, Status
from alerts.tasks import deliver_notification
from mapsite.celery import app as celery_app

from .conftest import make_notification

pytestmark = [
    pytest.mark.skipif(
        not os.environ.get("REDIS_URL"),
        reason="needs a Redis broker: set REDIS_URL (CI runs this against 127.0.0.1:6379)",
    ),
    pytest.mark.django_db(transaction=True),
]

WAIT_SECONDS = 45


def _test_database_url():
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db["PASSWORD"]:
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = db["HOST"] or "127.0.0.1"
    port = f":{db['PORT']}" if db["PORT"] else ""
    return f"postgres://{auth}@{host}{port}/{quote(db['NAME'], safe='')}"


@pytest.fixture
def worker(tmp_path, allow_local_receivers):
    """``celery -A mapsite worker`` on a queue of its own, against the test database,
    allowed to reach the test's Slack stub on 127.0.0.1 (OUTBOUND_ALLOW_NETWORKS)."""
    if connection.vendor != "postgresql":
        pytest.skip(
            "the worker process needs the test database by name: run on PostgreSQL "
            "(DATABASE_URL) to include this test"
        )
    queue = f"alerts-test-{uuid.uuid4().hex[:10]}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "mapsite.settings",
        "DATABASE_URL": _test_database_url(),
        "REDIS_URL": os.environ["REDIS_URL"],
        "MAPSITE_DATA_DIR": str(settings.DATA_DIR),
        "OUTBOUND_ALLOW_NETWORKS": ",".join(settings.OUTBOUND_ALLOW_NETWORKS),
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("CELERY_TASK_ALWAYS_EAGER", None)
    log_path = tmp_path / "worker.log"
    log = open(log_path, "w")  # noqa: SIM115 (closed below, after the process)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "mapsite",
            "worker",
            "--pool=solo",
            "-Q",
            queue,
            "-n",
            f"{queue}@%h",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "info",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield process, queue, log_path
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)  # warm shutdown
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()
        # Leave nothing of the test's queue behind in Redis.
        client = redis.Redis.from_url(os.environ["REDIS_URL"])
        client.delete(queue, f"_kombu.binding.{queue}")
        client.close()


def test_a_real_worker_consumes_the_queue_and_delivers(worker, org, slack_settings, slack_stub):
    process, queue, log_path = worker
    assert not celery_app.conf.task_always_eager, "this test must go through the broker"
    n = make_notification(org, payload={"subject": "s", "text": "Sent by a real worker."})

    # What the sweep and the retry button do (delay), on the worker's own queue.
    deliver_notification.apply_async((n.pk,), queue=queue)

    deadline = time.monotonic() + WAIT_SECONDS
    status = None
    while time.monotonic() < deadline:
        status = Notification.objects.values_list("status", flat=True).get(pk=n.pk)
        if status == Status.SENT or process.poll() is not None:
            break
        time.sleep(0.2)

    log = log_path.read_text()
    assert process.poll() is None, f"the worker exited early:\n{log}"
    assert status == Status.SENT, f"not sent within {WAIT_SECONDS} s:\n{log}"
    n.refresh_from_db()
    assert n.attempts == 1 and n.sent_at is not None
    assert [r.json for r in slack_stub.delivered] == [{"text": "Sent by a real worker."}]
    assert "alerts.tasks.deliver_notification" in log

    # Stopped cleanly: a warm shutdown on SIGTERM.
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0, log_path.read_text()
