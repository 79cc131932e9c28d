"""The backends mapsite/settings.py wires up, each from its URL or, in the embedded
default, in folders under the data folder: the SQLite database, the caches (Redis, or
file-based), the Celery broker's filesystem transport, and the SMTP mailer of an
EMAIL_URL."""

import os
from urllib.parse import unquote, urlparse

from django.core.exceptions import ImproperlyConfigured


def sqlite_database(data_dir):
    """The embedded default's database: a SQLite file in the data folder."""
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": data_dir / "db.sqlite3",
        "OPTIONS": {
            # Writers take the lock up front: no "database is locked" upgrades.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;"
                "PRAGMA synchronous=NORMAL;"
                "PRAGMA foreign_keys=ON;"
                "PRAGMA busy_timeout=20000;"
            ),
        },
        # A file, not shared-cache memory: concurrent tests lock like the real thing.
        # One per test run, so two runs in one checkout never share a database.
        "TEST": {"NAME": str(data_dir / f"test-db-{os.getpid()}.sqlite3")},
    }


def redis_caches(redis_url):
    return {
        "default": {
            "BACKEND": "mapsite.cache.RedisCache",
            "LOCATION": redis_url,
        },
        # Rendered room pages (rooms/render_cache.py): the same Redis, their own keys;
        # each entry expires on its own, so the set stays as small as the rooms in use.
        "fragments": {
            "BACKEND": "mapsite.cache.RedisCache",
            "LOCATION": redis_url,
            "KEY_PREFIX": "fragments",
        },
    }


def file_caches(data_dir):
    # A folder, not process memory: every web process sees the same counters
    # (e.g. the buyer-link guessing limit), incremented under a file lock so that
    # processes counting at once count exactly (mapsite/cache.py).
    return {
        "default": {
            "BACKEND": "mapsite.cache.LockingFileBasedCache",
            "LOCATION": str(data_dir / "cache"),
            # Django culls a third of the entries at random past 300, which would
            # forget rate-limit counters under load; keep far more than a busy day's.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        },
        # Rendered room pages (rooms/render_cache.py), up to about 150 KB each: a folder
        # of their own, bounded on its own, so that pages never push out the counters.
        "fragments": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": str(data_dir / "fragments"),
            "OPTIONS": {"MAX_ENTRIES": 1_000},
        },
    }


def filesystem_transport(queue_dir, processed_dir, control_dir):
    """The Celery broker's transport options without Redis (its folders made here)."""
    for folder in (queue_dir, processed_dir):
        folder.mkdir(parents=True, exist_ok=True)
    return {
        "data_folder_in": str(queue_dir),
        "data_folder_out": str(queue_dir),
        "processed_folder": str(processed_dir),
        "control_folder": str(control_dir),
        "store_processed": False,
    }


def smtp_mailer(email_url):
    """The mailer an EMAIL_URL names (smtp://, smtps:// or submission://)."""
    url = urlparse(email_url)
    if url.scheme not in {"smtp", "smtps", "submission"}:
        raise ImproperlyConfigured("EMAIL_URL must be smtp://, smtps:// or submission://")
    return {
        "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "OPTIONS": {
            "host": url.hostname or "localhost",
            "port": url.port or {"smtp": 25, "smtps": 465, "submission": 587}[url.scheme],
            "username": unquote(url.username or ""),
            "password": unquote(url.password or ""),
            "use_ssl": url.scheme == "smtps",
            "use_tls": url.scheme == "submission",
            "timeout": 20,
        },
    }
