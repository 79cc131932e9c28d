"""What the weekly check-in shows: since the last check-in (or the plan's start), what
was due, what got done, what slipped and what it does to the projected close, and what
is due before the next review, each task with its owner. A buyer sees their scope only
(``Task.objects.visible_to``); the schedule is always the whole plan's."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from plans.models import Milestone, Task, TaskStatus
from plans.selectors import room_schedule
from rooms.models import ActivityEvent

from .models import CheckIn

# How many past check-ins the page lists.
HISTORY = 20

# The marks of a line during the call, and the task status each one stores: "at risk"
# is the task's "blocked" status, visible everywhere the task is (and the room's
# current-blocker signal); "on track" clears "blocked" (or reopens a done task).
MARKS = {"on_track": "On track", "at_risk": "At risk", "done": "Done"}


def mark_of(status):
    """The mark a task's status shows as on the check-in."""
    if status == TaskStatus.DONE:
        return "done"
    if status == TaskStatus.BLOCKED:
        return "at_risk"
    return "on_track"


@dataclass
class Review:
    """The check-in's view of a room at one moment."""

    since: datetime
    since_day: date
    today: date
    next_review: datetime | None
    until_day: date
    was_due: list
    done: list
    slipped: list
    upcoming: list
    target_close: date | None
    projected_close: date | None
    slip_days: int
    last: CheckIn | None
    close_moved_days: int | None  # since the last check-in's projection
    history: list = field(default_factory=list)

    @property
    def close_moved_by(self):
        """How many days the close moved since the last check-in, either way."""
        return abs(self.close_moved_days or 0)

    @property
    def was_due_done(self):
        return sum(1 for t in self.was_due if t.is_done)


def period_start(room, last=None):
    """When the period under review began: the last check-in, else the plan's start
    (else the room's creation)."""
    if last is not None:
        return last.created_at
    return room.plan_started_at or room.created_at


def next_review_after_today(room, today):
    """The next weekly review after ``today`` (the room's date): a check-in held on the
    review's day looks ahead to the following one."""
    end_of_day = datetime.combine(today, time.max, tzinfo=room.tzinfo)
    return room.next_review(end_of_day)


def review_for(room, *, stakeholder=None, now=None):
    """The check-in's contents for a seller (``stakeholder=None``: the whole plan) or
    for a buyer stakeholder (their track's tasks and their own). Five queries: the last
    check-ins, milestones, their dependencies, tasks with owners, and (for a buyer) the
    tasks they may see, folded into the same task query."""
    checkins = list(CheckIn.objects.for_room(room).prefetch_related("attendees")[:HISTORY])
    last = checkins[0] if checkins else None
    since = period_start(room, last)
    tz = room.tzinfo
    since_day = since.astimezone(tz).date()
    today = room.today() if now is None else now.astimezone(tz).date()
    next_review = next_review_after_today(room, today)
    until_day = next_review.date() if next_review else today + timedelta(days=7)
    milestones = list(Milestone.objects.for_room(room))
    tasks = Task.objects.for_room(room).select_related("owner", "milestone")
    if stakeholder is not None:
        tasks = tasks.with_visibility(stakeholder)
    tasks = list(tasks)
    plan_schedule = room_schedule(room, milestones=milestones, tasks=tasks, today=today)
    consequences = plan_schedule.consequences()
    shown = [t for t in tasks if stakeholder is None or t.visible]
    for task in shown:
        task.mark = mark_of(task.status)
        consequence = consequences.get(task.pk)
        task.consequence = consequence.text if consequence else ""
    by_due = sorted(shown, key=lambda t: (t.due_date or date.max, t.order))
    projected = plan_schedule.projected_close
    moved = None
    if last is not None and last.projected_close_date and projected:
        moved = (projected - last.projected_close_date).days
    return Review(
        since=since,
        since_day=since_day,
        today=today,
        next_review=next_review,
        until_day=until_day,
        was_due=[t for t in by_due if t.due_date and since_day <= t.due_date < today],
        done=[t for t in by_due if t.is_done and t.completed_at and t.completed_at >= since],
        slipped=[t for t in by_due if not t.is_done and t.due_date and t.due_date < today],
        upcoming=[
            t for t in by_due if not t.is_done and t.due_date and today <= t.due_date <= until_day
        ],
        target_close=room.target_close_date,
        projected_close=projected,
        slip_days=plan_schedule.slip_days,
        last=last,
        close_moved_days=moved,
        history=checkins,
    )


def lines_since(room, revision):
    """What changed on the plan's tasks after the room's ``revision`` (the check-in was
    opened at it): each task whose status changed or that got a note, with its status
    before and after and the notes, in the order they happened. Read from the activity
    log, so it holds every change made during the call, from either side."""
    events = (
        ActivityEvent.objects.for_room(room)
        .filter(
            room_revision__gt=revision,
            target_type="task",
            verb__in=[ActivityEvent.Verb.UPDATED, ActivityEvent.Verb.COMMENTED],
        )
        .order_by("room_revision", "id")
    )
    lines = {}
    for event in events:
        changes = event.changes or {}
        status = changes.get("status") if event.verb == ActivityEvent.Verb.UPDATED else None
        comment = changes.get("comment") if event.verb == ActivityEvent.Verb.COMMENTED else None
        if not status and not comment:
            continue
        line = lines.setdefault(
            event.target_id,
            {
                "task": event.target_id,
                "title": event.target_label,
                "from": "",
                "to": "",
                "notes": [],
            },
        )
        if status:
            line["from"] = line["from"] or status.get("from", "")
            line["to"] = status.get("to", "")
        if comment and comment.get("to"):
            line["notes"].append(comment["to"])
    owners = {
        str(pk): (name or "")
        for pk, name in Task.objects.for_room(room)
        .filter(pk__in=list(lines))
        .values_list("pk", "owner__name")
    }
    for task_id, line in lines.items():
        line["owner"] = owners.get(task_id, "")
        if line["from"] == line["to"]:
            line["from"] = line["to"] = ""
    return list(lines.values())


def visible_lines(lines, task_ids):
    """The lines of a check-in a buyer may read: those of the tasks they see."""
    ids = {str(pk) for pk in task_ids}
    return [line for line in lines if line.get("task") in ids]
