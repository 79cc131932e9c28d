"""Celery tasks of the webhooks: thin wrappers; the work is in services and delivery."""

import logging

from celery import shared_task

from . import delivery, services

log = logging.getLogger(__name__)


@shared_task(name="webhooks.tasks.dispatch", ignore_result=True)
def dispatch():
    """Turn recent activity into deliveries, then send what is due."""
    created = services.dispatch()
    return {"created": created, **delivery.deliver_due()}


@shared_task(name="webhooks.tasks.deliver", ignore_result=True)
def deliver(delivery_id):
    return delivery.deliver(delivery_id)


def enqueue_dispatch():
    """Queue a dispatch (from ``transaction.on_commit``). If the broker is down, beat's
    run within a minute does it: nothing is lost."""
    try:
        dispatch.delay()
    except Exception:
        log.exception("Could not queue a webhook dispatch; the next beat run will do it")


def enqueue_delivery(delivery_id):
    try:
        deliver.delay(str(delivery_id))
    except Exception:
        log.exception("Could not queue webhook delivery %s; beat will send it", delivery_id)
