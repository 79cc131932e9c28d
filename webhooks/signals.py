"""A relevant entry in the activity log queues a dispatch once its transaction commits.

Only a trigger: dispatch reads the log itself, and beat runs it every minute anyway
(entries written in bulk, like the overdue sweep's, are picked up that way)."""

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from rooms.models import ActivityEvent

from .events import event_type_of


@receiver(post_save, sender=ActivityEvent, dispatch_uid="webhooks_dispatch_on_event")
def _queue_dispatch(sender, instance, created, **kwargs):
    if not created or event_type_of(instance) is None:
        return
    from .tasks import enqueue_dispatch

    transaction.on_commit(enqueue_dispatch)
