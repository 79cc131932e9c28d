"""The Celery app and its beat schedule, defined in code."""

import os

from celery import Celery
from celery.schedules import crontab

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mapsite.settings")

app = Celery("mapsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

app.conf.beat_schedule = {
    # The sweep decides from database state, so a late or doubled run is harmless.
    "scan-overdue": {
        "task": "alerts.tasks.scan_overdue",
        "schedule": int(os.environ.get("ALERT_SWEEP_MINUTES", "15")) * 60,
    },
    # Retries with backoff, and anything a lost queue message left pending.
    "deliver-due-notifications": {
        "task": "alerts.tasks.deliver_due",
        "schedule": 60,
    },
    # Webhooks: re-reads the recent activity log (each commit also triggers a run),
    # creates missing deliveries and sends what is due, retries included.
    "dispatch-webhooks": {
        "task": "webhooks.tasks.dispatch",
        "schedule": 60,
    },
    "clear-expired-sessions": {
        "task": "accounts.tasks.clear_expired_sessions",
        "schedule": crontab(minute=17),
    },
}
