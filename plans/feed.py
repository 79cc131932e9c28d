"""A stakeholder's calendar feed: the due dates of the tasks they own and the dates of
the milestones in their scope, plus the weekly review. Generated on every request, so a
moved date shows up at the calendar's next poll; UIDs come from row ids and SEQUENCE
from row versions, so calendar apps update events in place."""

from datetime import timedelta

from django.utils import timezone
from icalendar import Event

from stakeholders.calendar import UID_DOMAIN, add_timezones, line, new_calendar, review_event
from stakeholders.models import Scope, Side, Stakeholder

from .models import Milestone, Task


def _all_day(uid, *, day, summary, description, version, stamp):
    event = Event()
    event.add("uid", uid)
    event.add("dtstamp", stamp)
    event.add("sequence", version)
    event.add("summary", summary)
    event.add("dtstart", day)
    event.add("dtend", day + timedelta(days=1))
    event.add("transp", "TRANSPARENT")
    event.add("description", description)
    return event


def feed_milestones(room, person):
    """Milestones whose dates a person's feed carries: all of them for the whole plan
    (and for the seller's team), their track's and those holding their tasks otherwise."""
    milestones = Milestone.objects.for_room(room).exclude(target_date=None)
    if person.side == Side.SELLER or person.scope == Scope.WHOLE_PLAN:
        return milestones
    own = Task.objects.for_room(room).filter(owner=person).values("milestone_id")
    return milestones.filter(track=person.track) | milestones.filter(pk__in=own)


def stakeholder_feed_ics(room, person, *, url=""):
    cal = new_calendar(f"{line(room.buyer_company)} plan: {line(person.name)}")
    cal.add("x-published-ttl", "PT1H")
    cal.add("refresh-interval", timedelta(hours=1), parameters={"VALUE": "DURATION"})
    now = timezone.now()
    tasks = (
        Task.objects.for_room(room)
        .filter(owner=person)
        .exclude(due_date=None)
        .select_related("milestone")
    )
    for task in tasks:
        done = " (done)" if task.is_done else ""
        cal.add_component(
            _all_day(
                f"task-{task.pk}@{UID_DOMAIN}",
                day=task.due_date,
                summary=f"Due: {line(task.title)}{done}",
                description=(
                    f"{line(room.buyer_company)} × {line(room.org.name)}: "
                    f"“{line(task.milestone.title)}”. "
                    f"Status: {task.get_status_display()}." + (f"\n\n{url}" if url else "")
                ),
                version=task.version,
                stamp=task.updated_at or now,
            )
        )
    for milestone in feed_milestones(room, person).distinct():
        cal.add_component(
            _all_day(
                f"milestone-{milestone.pk}@{UID_DOMAIN}",
                day=milestone.target_date,
                summary=f"Milestone: {line(milestone.title)}",
                description=(
                    f"{line(room.buyer_company)} × {line(room.org.name)}. "
                    f"{milestone.get_lead_side_display()} leads."
                    + (
                        f" Done when: {line(milestone.completion_condition)}."
                        if milestone.completion_condition
                        else ""
                    )
                ),
                version=milestone.version,
                stamp=milestone.updated_at or now,
            )
        )
    review = review_event(room, list(Stakeholder.objects.for_room(room).seen_by(person)), url=url)
    if review is not None:
        cal.add_component(review)
    add_timezones(cal, room)
    return cal.to_ical()
