"""An outbox: a table of messages a job sends (alert notifications, webhook
deliveries), each row pending → sending → done or failed, with retries.

The rules every outbox keeps, in one place:

- **Claim before sending.** A worker takes a due row with one conditional UPDATE
  (pending and due → sending, attempts + 1, ``next_attempt_at`` = now); only the
  worker whose UPDATE moved it sends it, so two workers never send one row.
- **Finish only what one holds.** The outcome is written only while the row is still
  "sending" (a row put back meanwhile is not overwritten).
- **Stuck rows come back.** A row left in "sending" longer than ``STUCK_AFTER`` (its
  worker died) goes back to pending, or to failed when that was its last attempt.
- **Back off.** Retry after base · 2^(n-1) plus up to 10 % jitter, at least what the
  receiver asked for (Retry-After), at most an hour.
- **Wait with a resting receiver.** Rows of a receiver that just failed in a way that
  may pass wait until it may be tried again, without spending an attempt (``defer``).

The row's model needs ``status`` (with "pending", "sending" and "failed"),
``attempts``, ``next_attempt_at`` and ``last_error``.
"""

import random
from datetime import timedelta

from django.db.models import F
from django.utils import timezone

PENDING, SENDING, FAILED = "pending", "sending", "failed"
STUCK_AFTER = timedelta(minutes=10)
MAX_RETRY_DELAY = timedelta(hours=1)
LOST = "The worker stopped while sending"


def retry_delay(attempts, retry_after=None, *, base_seconds):
    """How long to wait after the ``attempts``-th failed attempt: base · 2^(n-1) plus up
    to 10 % jitter, at least Retry-After, at most MAX_RETRY_DELAY."""
    cap = MAX_RETRY_DELAY.total_seconds()
    seconds = min(base_seconds * 2 ** max(0, attempts - 1), cap)
    seconds += random.uniform(0, seconds * 0.1)
    if retry_after:
        seconds = max(seconds, retry_after)
    return timedelta(seconds=min(seconds, cap))


class Outbox:
    """The rows of ``model``; ``max_attempts()`` is read when it is needed (a setting
    tests and operators may change)."""

    def __init__(self, model, *, max_attempts):
        self.model = model
        self.max_attempts = max_attempts

    def claim(self, pk, now=None, attempts=None):
        """Pending and due → sending (attempts + 1); True if this caller got it.
        ``attempts``: claim it only if it still has that many (as the caller read it).

        ``next_attempt_at`` is set to the claim time, so a row stuck in "sending" can
        be recognised later by its age."""
        now = now or timezone.now()
        rows = self.model.objects.filter(pk=pk, status=PENDING, next_attempt_at__lte=now)
        if attempts is not None:
            rows = rows.filter(attempts=attempts)
        return bool(rows.update(status=SENDING, attempts=F("attempts") + 1, next_attempt_at=now))

    def finish(self, pk, **fields):
        """Write the outcome of a row this worker holds (still "sending")."""
        return self.model.objects.filter(pk=pk, status=SENDING).update(**fields)

    def requeue_stuck(self, now=None):
        """Rows left in "sending" by a worker that died: back to pending (or failed when
        that was their last attempt). Returns (put back, failed)."""
        now = now or timezone.now()
        stuck = self.model.objects.filter(status=SENDING, next_attempt_at__lte=now - STUCK_AFTER)
        failed = stuck.filter(attempts__gte=self.max_attempts()).update(
            status=FAILED, last_error=f"{LOST} (gave up after the last attempt)"
        )
        requeued = stuck.update(status=PENDING, next_attempt_at=now, last_error=LOST)
        return requeued, failed

    def due(self, now, limit, *fields, order=("next_attempt_at", "pk")):
        """(pk, *fields) of the due pending rows, oldest first, at most ``limit``."""
        rows = self.model.objects.filter(status=PENDING, next_attempt_at__lte=now)
        return list(rows.order_by(*order).values_list("pk", *fields)[:limit])

    def defer(self, pks, until):
        """These pending rows wait until ``until`` (no attempt spent). Returns how many
        moved."""
        return self.model.objects.filter(
            pk__in=pks, status=PENDING, next_attempt_at__lt=until
        ).update(next_attempt_at=until)
