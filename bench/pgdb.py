"""What the PostgreSQL benchmarks share: a throwaway database, created fresh, migrated,
and dropped afterwards, with Django set up against it (Redis as in production)."""

import os
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

ROOT = Path(__file__).resolve().parent.parent


def database_url(default_name):
    return os.environ.get(
        "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/{default_name}"
    )


def recreate(db_url, drop_only=False):
    """Drop the database (and create it again unless ``drop_only``)."""
    import psycopg

    name = urlparse(db_url).path.lstrip("/")
    admin = urlparse(db_url)._replace(path="/postgres").geturl()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not drop_only:
            conn.execute(f'CREATE DATABASE "{name}"')


def setup(db_url, data_dir, **env):
    """Point mapsite at the database, migrate it, and set Django up in this process."""
    os.environ.update(
        DATABASE_URL=db_url,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15"),
        MAPSITE_DATA_DIR=str(data_dir),
        DJANGO_SETTINGS_MODULE="mapsite.settings",
        CELERY_TASK_ALWAYS_EAGER="false",
        **env,
    )
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, check=True
    )
    import django

    django.setup()
