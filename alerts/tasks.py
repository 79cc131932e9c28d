"""Celery tasks of the alerts: thin wrappers, the work is in ``delivery`` and ``services``.

A task may run twice or late (a redelivered message, two beats): each one decides from
the database, and delivery claims every notification with a conditional UPDATE.
"""

import logging

from celery import shared_task

from . import delivery

log = logging.getLogger(__name__)


@shared_task(name="alerts.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id):
    """Send one notification now if it is pending and due (else do nothing)."""
    return delivery.deliver(notification_id)


@shared_task(name="alerts.tasks.deliver_due", ignore_result=True)
def deliver_due():
    """Send every due notification; put back those a dead worker left "sending"."""
    return delivery.deliver_due()


@shared_task(name="alerts.tasks.scan_overdue", ignore_result=True)
def scan_overdue():
    """The overdue sweep (beat): flag at +3 days, alert at +7, each once."""
    from .sweep import sweep_overdue

    return sweep_overdue(keep_details=False).summary()


def enqueue_notification(notification_id):
    """Queue one notification for a worker (call it from ``transaction.on_commit``).

    If the broker cannot be reached the row stays pending and due, and the next
    ``deliver_due`` run (every minute on beat) sends it: nothing is lost."""
    try:
        deliver_notification.delay(notification_id)
    except Exception:
        log.exception("Could not queue notification %s; deliver_due will send it", notification_id)
