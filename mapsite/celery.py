"""The Celery app and its beat schedule, defined in code."""

import os

from celery import Celery
from celery.schedules import crontab
from celery.signals import after_setup_logger, after_setup_task_logger

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mapsite.settings")

app = Celery("mapsite")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def _redact_celery_logs(**kwargs):
    """The worker and beat add handlers of their own (task logger, multiprocessing) after
    settings.LOGGING: they redact secrets too."""
    from mapsite.redaction import redact_every_handler

    redact_every_handler()


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
