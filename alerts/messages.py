"""The words of an overdue notification, written when it is sent.

The sweep stores slim outbox rows (task, level, due date, channel, recipient); the
message is rendered here at delivery time from the task as it is then, and kept in
``payload`` once sent, so the record shows what went out. A task finished, or moved
to another date, between the sweep and delivery is not worth a message any more:
``render`` then says why, and the notification is recorded as not sent.

Each message also says what the late task does to the close (the room's schedule,
plans.schedule): the milestone it pushes and the projected close, or that the close
still holds. A delivery run that writes several messages passes one ``schedules``
dict, so each room's schedule is projected once for all its messages.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.urls import reverse

from accounts.models import Role, User
from plans.models import Milestone, OverdueLevel, Task, TaskStatus
from plans.selectors import room_schedule
from stakeholders.models import Side, Stakeholder

from .models import Channel

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    subject: str = ""
    text: str = ""
    skip_reason: str = ""
    # Emails: the words without the link (the HTML part shows the link as a button),
    # the link, what the button says, and whether the recipient is on the buyer's side
    # (they sign in with a personal link, not an account).
    body: str = ""
    link: str = ""
    link_label: str = ""
    buyer: bool = False

    def payload(self):
        """What the outbox keeps: the words as sent (no token: delivery adds the links
        that carry one when it sends)."""
        if not self.body:
            return {"subject": self.subject, "text": self.text}
        return {
            "subject": self.subject,
            "text": self.text,
            "body": self.body,
            "link": self.link,
            "link_label": self.link_label,
            "buyer": self.buyer,
        }


TASK_GONE = "The task was deleted before this was sent"
TASK_DONE = "The task was done before this was sent"
TASK_MOVED = "The task's due date moved before this was sent"


def render(notification, *, today=None, schedules=None):
    """The message for one overdue notification (or why it should not go out).
    ``today`` (the room's date by default) counts the days late. ``schedules``: a dict
    shared by the messages of one delivery run, which keeps each room's schedule."""
    task = (
        Task.objects.filter(pk=notification.task_id, org_id=notification.org_id)
        .select_related("room", "room__owner", "owner", "milestone")
        .first()
    )
    if task is None:
        return Message(skip_reason=TASK_GONE)
    if task.status == TaskStatus.DONE:
        return Message(skip_reason=TASK_DONE)
    if notification.due_date and task.due_date != notification.due_date:
        return Message(skip_reason=TASK_MOVED)
    room = task.room
    today = today or room.today()
    days = (today - task.due_date).days
    effect = _close_effect(task, room, today, schedules)
    who = task.owner.name if task.owner_id else "nobody named yet"
    seller_url = settings.SITE_URL + reverse("plans:room", args=[room.pk])
    due = task.due_date

    if notification.channel == Channel.SLACK:
        name = _addressees(room, notification.level)
        if notification.level == OverdueLevel.FLAGGED:
            return Message(
                subject=f"Flagged: {task.title}",
                text=f"{name}: “{task.title}” in {room.buyer_company} ({room.name}) is "
                f"{days} days overdue (due {due:%b %d}). Owner: {who}. {seller_url}"
                + (f"\n{effect}" if effect else ""),
            )
        blocks = _blocks(task.milestone)
        return Message(
            subject=f"Alert: {task.title}",
            text=f"{name}: “{task.title}” in {room.buyer_company} ({room.name}) is "
            f"{days} days overdue (due {due:%b %d})"
            + (f", which holds up {blocks}" if blocks else "")
            + f". Owner: {who}. Target close {room.target_close_date:%b %d}. {seller_url}"
            + (f"\n{effect}" if effect else ""),
        )

    person = Stakeholder.objects.for_room(room).filter(email__iexact=notification.recipient).first()
    name = person.name if person else notification.recipient_label or notification.recipient
    is_buyer = person is None or person.side == Side.BUYER
    link = settings.SITE_URL + reverse("buyer:room") if is_buyer else seller_url
    blocks = _blocks(task.milestone)
    lines = [
        f"Hello {name},",
        "",
        f"“{task.title}” is {days} days late: it was due on {due:%A %d %B}.",
        f"Owner: {who}.",
    ]
    if blocks:
        lines.append(f"It holds up {blocks}.")
    lines.append(
        f"The plan aims to close on {room.target_close_date:%A %d %B}"
        + (f" ({room.close_reason})." if room.close_reason else ".")
    )
    if effect:
        lines.append(effect)
    body = "\n".join(lines)
    lines += ["", "See the plan: " + link]
    if is_buyer:
        lines.append("(Use your personal link if the page asks for it.)")
    return Message(
        subject=f"Overdue: {task.title} ({days} days late)",
        text="\n".join(lines),
        body=body,
        link=link,
        link_label=f"Open the plan for {room.buyer_company}",
        buyer=is_buyer,
    )


def _close_effect(task, room, today, schedules):
    """The line saying what ``task`` does to the close (plans.schedule.Consequence; ""
    when it moves nothing or the schedule cannot say).
    The room's schedule and consequences are kept in ``schedules`` (when given) for the
    other messages of the same delivery run."""
    key = (room.pk, today)
    try:
        if schedules is not None and key in schedules:
            plan_schedule, consequences = schedules[key]
        else:
            plan_schedule = room_schedule(room, today=today)
            consequences = plan_schedule.consequences()
            if schedules is not None:
                schedules[key] = (plan_schedule, consequences)
    except Exception:
        # The line is extra: the alert still goes out without it.
        log.exception("Room %s: could not project the schedule for an alert", room.pk)
        return ""
    consequence = consequences.get(task.pk)
    return consequence.text if consequence else ""


def _addressees(room, level):
    """Whom a Slack post in the team's channel is for: the room's owner, and at +7 the
    organisation's managers too (as they are when it is sent)."""
    people = [room.owner] if room.owner_id else []
    if level == OverdueLevel.ALERTED:
        people += (
            User.objects.filter(memberships__org_id=room.org_id, memberships__role=Role.MANAGER)
            .exclude(pk=room.owner_id)
            .order_by("name", "email")
        )
    return ", ".join(person.display_name for person in people) or "Team"


def _blocks(milestone):
    """'the milestone “A”, and after it “B” and “C”' — what a late task holds up."""
    if milestone is None:
        return ""
    text = f"the milestone “{milestone.title}”"
    after = [
        f"“{title}”"
        for title in Milestone.objects.filter(
            org_id=milestone.org_id, depends_on=milestone
        ).values_list("title", flat=True)
    ]
    if after:
        text += f", and after it {' and '.join(after)}"
    return text
