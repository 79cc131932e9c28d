"""gunicorn's access and error logs, from a real gunicorn serving mapsite, hold no
capability token even when the request behind the line failed."""

import os
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path

from gunicorn.config import Config

from mapsite.gunicorn_logging import RedactingLogger

BASE_DIR = Path(__file__).resolve().parent.parent
TOKEN = "t14EAkvIyqZCMFdUizR_VyXiAf0HbucZPXiDuwhaP6E"


def test_the_error_log_is_redacted(tmp_path):
    cfg = Config()
    cfg.set("errorlog", str(tmp_path / "error.log"))
    cfg.set("accesslog", str(tmp_path / "access.log"))
    log = RedactingLogger(cfg)
    log.error("Error handling request %s", f"/b/{TOKEN}/")
    try:
        raise ValueError(f"/cal/{TOKEN}.ics")
    except ValueError:
        log.exception("Error handling request")
    log.close_on_exec()
    for handler in log.error_log.handlers:
        handler.flush()
    text = (tmp_path / "error.log").read_text()
    assert TOKEN not in text
    assert "/b/<redacted>/" in text and "ValueError: /cal/<redacted>.ics" in text


def _get(url):
    try:
        with urllib.request.urlopen(url, timeout=20) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_a_failing_feed_behind_gunicorn_logs_no_token(tmp_path):
    # An empty database: the feed's lookup fails, so the request ends in a 500 that
    # Django logs with its path, beside gunicorn's access line.
    env = {k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DEBUG"}}
    env.update(
        MAPSITE_ENV="embedded",
        MAPSITE_DATA_DIR=str(tmp_path),
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
        PYTHONUNBUFFERED="1",
        DJANGO_SETTINGS_MODULE="tests.server_settings",
    )
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    proc = subprocess.Popen(
        [
            gunicorn,
            "mapsite.wsgi",
            "--bind",
            "127.0.0.1:0",
            "--workers",
            "1",
            "--access-logfile",
            "-",
            "--no-control-socket",
            "--logger-class",
            "mapsite.gunicorn_logging.RedactingLogger",
        ],  # fmt: skip
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines, listening = [], threading.Event()
    port = []

    def read():
        for line in proc.stdout:
            lines.append(line)
            if "Listening at: http://127.0.0.1:" in line:
                port.append(int(line.rsplit(":", 1)[1].split()[0]))
                listening.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert listening.wait(30), "".join(lines)
        base = f"http://127.0.0.1:{port[0]}"
        assert _get(f"{base}/cal/{TOKEN}.ics") == 500
        assert _get(f"{base}/b/{TOKEN}/") == 500
    finally:
        proc.terminate()
        proc.wait(20)
        reader.join(5)
    text = "".join(lines)
    assert TOKEN not in text
    assert "Internal Server Error: /cal/<redacted>.ics" in text
    assert '"GET /cal/<redacted>.ics HTTP/1.1" 500' in text
    assert '"GET /b/<redacted>/ HTTP/1.1" 500' in text
