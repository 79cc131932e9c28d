"""The overdue sweep: flag tasks at +3 days, alert at +7, each once.

The sweep decides from database state alone: every open task whose due date is 3 (7)
or more calendar days behind today *in its room's timezone* and that has not reached
that level for its current due date. So a beat that was down for two days catches up
on its next run, and sweeps running at the same time do not double anything:

- tasks are claimed with a conditional UPDATE (only rows still below the level for
  their current due date change);
- an OverdueFlag is unique per (task, level, due date) and a Notification per
  (task, level, due date, channel, recipient), inserted with ON CONFLICT DO NOTHING;
- delivery claims each notification with a conditional UPDATE (alerts.delivery).

Work goes in batches of tasks: the number of SQL statements grows with batches, not
with tasks. Notifications are enqueued only after the batch's transaction commits.
"""

import datetime
import logging
import zoneinfo
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership, Role
from plans.models import Milestone, Task, TaskStatus
from plans.services import room_overdue_recount
from rooms.models import ActivityEvent, ActorKind, Outcome, Room
from rooms.services import forget_revisions
from stakeholders.models import DecisionRole, Stakeholder

from .models import Channel, Level, Notification, OverdueFlag

BATCH_SIZE = 1000
log = logging.getLogger(__name__)


@dataclass
class SweepResult:
    flagged: list = field(default_factory=list)  # (task title, room name, days late)
    alerted: list = field(default_factory=list)
    notifications: int = 0
    batches: int = 0

    def summary(self):
        return (
            f"{len(self.flagged)} task(s) flagged, {len(self.alerted)} alerted, "
            f"{self.notifications} notification(s) queued"
        )


def local_today(tz_name, now=None):
    try:
        tz = zoneinfo.ZoneInfo(tz_name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        tz = datetime.UTC
    return (now or timezone.now()).astimezone(tz).date()


def sweep_overdue(*, today=None, now=None, batch_size=BATCH_SIZE, keep_details=True):
    """Flag and alert every task that crossed +3 / +7. ``today`` (a date) overrides the
    date in every timezone (operators and tests); otherwise each room's own date at
    ``now`` (default: the clock)."""
    result = SweepResult()
    now = now or timezone.now()
    zones = (
        Room.objects.filter(outcome=Outcome.OPEN)
        .order_by()
        .values_list("timezone", flat=True)
        .distinct()
    )
    for tz_name in list(zones):
        day = today or local_today(tz_name, now)
        for level in (Level.FLAGGED, Level.ALERTED):
            _sweep_level(tz_name, day, level, batch_size, result, keep_details)
    if result.notifications:
        # Every batch has committed: one message wakes a worker to send them all.
        transaction.on_commit(_enqueue_delivery)
    return result


def _candidates(tz_name, day, level):
    return (
        Task.objects.filter(
            room__timezone=tz_name,
            room__outcome=Outcome.OPEN,
            due_date__lte=day - datetime.timedelta(days=int(level)),
        )
        .exclude(status=TaskStatus.DONE)
        .exclude(overdue_level__gte=level, overdue_for=F("due_date"))
    )


def _sweep_level(tz_name, day, level, batch_size, result, keep_details):
    # One scan finds the candidates; each batch re-checks its rows by primary key (a
    # concurrent sweep may have taken some meanwhile).
    ids = list(_candidates(tz_name, day, level).order_by("pk").values_list("pk", flat=True))
    for start in range(0, len(ids), batch_size):
        rows = list(
            _candidates(tz_name, day, level)
            .filter(pk__in=ids[start : start + batch_size])
            .values("pk", "org_id", "room_id", "milestone_id", "title", "due_date", "owner_id")
        )
        if rows:
            result.batches += 1
            _process_batch(rows, day, level, result, keep_details)


def _process_batch(rows, day, level, result, keep_details):
    now = timezone.now()
    ids = [r["pk"] for r in rows]
    with transaction.atomic():
        # Claim: only rows still below this level for their current due date change.
        Task.objects.filter(pk__in=ids).exclude(status=TaskStatus.DONE).exclude(
            overdue_level__gte=level, overdue_for=F("due_date")
        ).update(overdue_level=level, overdue_for=F("due_date"))
        OverdueFlag.objects.bulk_create(
            [
                OverdueFlag(
                    org_id=r["org_id"],
                    room_id=r["room_id"],
                    task_id=r["pk"],
                    level=level,
                    due_date=r["due_date"],
                    created_at=now,
                )
                for r in rows
            ],
            ignore_conflicts=True,
        )
        # The flags this sweep created (another sweep may have got there first).
        mine = set(
            OverdueFlag.objects.filter(task_id__in=ids, level=level, created_at=now).values_list(
                "task_id", flat=True
            )
        )
        rows = [r for r in rows if r["pk"] in mine]
        if not rows:
            return
        context = _batch_context(rows, level)
        notifications = []
        for r in rows:
            notifications.extend(_notifications_for(r, day, level, context, now))
        Notification.objects.bulk_create(notifications, ignore_conflicts=True)
        result.notifications += len(notifications)
        touched = {r["room_id"] for r in rows}
        _log(rows, day, level, now)
        room_overdue_recount(touched)
        transaction.on_commit(lambda: forget_revisions(touched))
    if keep_details:
        target = result.alerted if level == Level.ALERTED else result.flagged
        target.extend(
            (r["title"], context["rooms"][r["room_id"]].name, (day - r["due_date"]).days)
            for r in rows
        )
    elif level == Level.ALERTED:
        result.alerted.extend([None] * len(rows))
    else:
        result.flagged.extend([None] * len(rows))


def _enqueue_delivery():
    from .tasks import deliver_due

    try:
        deliver_due.delay()
    except Exception:  # broker unreachable: beat's next deliver_due run sends them
        log.exception("Could not queue delivery; the next scheduled run will send it")


def _batch_context(rows, level):
    """Everything the messages of one batch need, in a fixed number of queries."""
    room_ids = {r["room_id"] for r in rows}
    rooms = {room.pk: room for room in Room.objects.filter(pk__in=room_ids).select_related("owner")}
    owners = {
        s.pk: s
        for s in Stakeholder.objects.filter(pk__in={r["owner_id"] for r in rows if r["owner_id"]})
    }
    milestones = {
        m.pk: m for m in Milestone.objects.filter(pk__in={r["milestone_id"] for r in rows})
    }
    context = {
        "rooms": rooms,
        "owners": owners,
        "milestones": milestones,
        "managers": {},
        "champions": {},
        "blocks": {},
    }
    if level == Level.ALERTED:
        for m in Membership.objects.filter(
            org_id__in={r["org_id"] for r in rows}, role=Role.MANAGER
        ).select_related("user"):
            context["managers"].setdefault(m.org_id, []).append(m.user)
        for s in Stakeholder.objects.filter(
            room_id__in=room_ids, role=DecisionRole.CHAMPION
        ).exclude(email=""):
            context["champions"].setdefault(s.room_id, []).append(s)
        through = Milestone.depends_on.through
        for dependent_title, blocked_by in through.objects.filter(
            to_milestone_id__in=milestones
        ).values_list("from_milestone__title", "to_milestone_id"):
            context["blocks"].setdefault(blocked_by, []).append(dependent_title)
    return context


def _notifications_for(r, day, level, context, now):
    room = context["rooms"][r["room_id"]]
    days = (day - r["due_date"]).days
    owner = context["owners"].get(r["owner_id"])
    milestone = context["milestones"].get(r["milestone_id"])
    seller_url = settings.SITE_URL + reverse("plans:room", args=[room.pk])
    who = owner.name if owner else "nobody named yet"
    key = f"{r['pk']}:{int(level)}:{r['due_date']:%Y-%m-%d}"
    out = []

    def make(channel, recipient, label, subject, text):
        return Notification(
            org_id=r["org_id"],
            room_id=room.pk,
            task_id=r["pk"],
            level=level,
            channel=channel,
            recipient=recipient,
            recipient_label=label,
            payload={"subject": subject, "text": text},
            dedupe_key=f"{key}:{channel}:{recipient}"[:200],
            next_attempt_at=now,
            created_at=now,
        )

    if level == Level.FLAGGED:
        if room.owner_id:
            out.append(
                make(
                    Channel.SLACK,
                    f"user:{room.owner_id}",
                    room.owner.display_name,
                    f"Flagged: {r['title']}",
                    f"{room.owner.display_name}: “{r['title']}” in {room.buyer_company} "
                    f"({room.name}) is {days} days overdue (due {r['due_date']:%b %d}). "
                    f"Owner: {who}. {seller_url}",
                )
            )
        return out

    blocks = ""
    if milestone is not None:
        blocks = f"the milestone “{milestone.title}”"
        after = [f"“{t}”" for t in context["blocks"].get(milestone.pk, [])]
        if after:
            blocks += f", and after it {' and '.join(after)}"
    blocks_text = f", which holds up {blocks}" if blocks else ""
    slack_people = ([room.owner] if room.owner_id else []) + [
        u for u in context["managers"].get(r["org_id"], []) if u.pk != room.owner_id
    ]
    for user in slack_people:
        out.append(
            make(
                Channel.SLACK,
                f"user:{user.pk}",
                user.display_name,
                f"Alert: {r['title']}",
                f"{user.display_name}: “{r['title']}” in {room.buyer_company} ({room.name}) is "
                f"{days} days overdue (due {r['due_date']:%b %d}){blocks_text}. Owner: {who}. "
                f"Target close {room.target_close_date:%b %d}. {seller_url}",
            )
        )
    emails = {}
    for person in context["champions"].get(room.pk, []):
        emails[person.email.lower()] = person
    if owner is not None and owner.email:
        emails.setdefault(owner.email.lower(), owner)
    for address, person in emails.items():
        is_buyer = person.side == "buyer"
        link = (settings.SITE_URL + reverse("buyer:room")) if is_buyer else seller_url
        text = "\n".join(
            [
                f"Hello {person.name},",
                "",
                f"“{r['title']}” is {days} days late: it was due on {r['due_date']:%A %d %B}.",
                f"Owner: {who}.",
                f"It holds up {blocks}." if blocks else "",
                f"The plan aims to close on {room.target_close_date:%A %d %B}"
                + (f" ({room.close_reason})." if room.close_reason else "."),
                "",
                "See the plan: " + link,
                "(Use your personal link if the page asks for it.)" if is_buyer else "",
            ]
        ).replace("\n\n\n", "\n\n")
        out.append(
            make(
                Channel.EMAIL,
                address,
                person.name,
                f"Overdue: {r['title']} ({days} days late)",
                text,
            )
        )
    return out


def _log(rows, day, level, now):
    verb = ActivityEvent.Verb.ALERTED if level == Level.ALERTED else ActivityEvent.Verb.FLAGGED
    revisions = dict(
        Room.objects.filter(pk__in={r["room_id"] for r in rows}).values_list("pk", "revision")
    )
    Room.objects.filter(pk__in=revisions).update(revision=F("revision") + 1)
    ActivityEvent.objects.bulk_create(
        [
            ActivityEvent(
                org_id=r["org_id"],
                room_id=r["room_id"],
                created_at=now,
                actor_kind=ActorKind.SYSTEM,
                actor_label="mapsite",
                verb=verb,
                target_type="task",
                target_id=str(r["pk"]),
                target_label=r["title"][:250],
                changes={
                    "late": {
                        "label": "Days late",
                        "from": "",
                        "to": str((day - r["due_date"]).days),
                    }
                },
                room_revision=revisions[r["room_id"]] + 1,
            )
            for r in rows
        ]
    )
