"""iCalendar for a room: the weekly review as a recurring event, and the shared pieces
the per-stakeholder feed (plans/feed.py) is built from.

UIDs are derived from the rows' ids, so regenerating a calendar gives the same UIDs and
calendar apps update events instead of duplicating them.

Every stored value is put in through ``line`` or ``address``: names and titles are
cleaned when saved (mapsite.text), but rows saved before that may hold a line break,
which icalendar refuses (a calendar that fails to build is a failed page).
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from icalendar import Calendar, Event, vCalAddress, vText

from accounts.models import hash_token
from mapsite.text import single_line
from rooms.activity_log import activity_record
from rooms.models import ActivityEvent

from .links import TOKEN_BYTES, TOKEN_RE
from .models import CalendarFeed, Side

UID_DOMAIN = "mapsite"
WEEKDAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]
ICS_CONTENT_TYPE = "text/calendar; charset=utf-8"


def line(value):
    """A stored value as one line of text, safe in any property or parameter."""
    return single_line(value)


def address(email):
    """A ``mailto:`` address for a stored email, or None when it is not a valid one even
    once cleaned (that person is then left out of the invite, not the whole calendar)."""
    email = single_line(email, space="")
    try:
        validate_email(email)
    except ValidationError:
        return None
    return vCalAddress(f"mailto:{email}")


def new_calendar(name):
    cal = Calendar()
    cal.add("prodid", "-//mapsite//Mutual action plan//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", line(name))
    return cal


def add_timezones(cal, room):
    """VTIMEZONE blocks for the zones the events use, from a year before the room
    existed (calendar apps need the rules only for the dates shown)."""
    since = room.created_at.date() - timedelta(days=366) if room.created_at else None
    if since is None:
        cal.add_missing_timezones()
    else:
        cal.add_missing_timezones(first_date=since)


def review_uid(room):
    return f"review-{room.pk}@{UID_DOMAIN}"


def review_event(room, people, *, url=""):
    """The room's weekly review (None without a slot): a weekly RRULE in the room's
    timezone, both sides' people with an email as attendees, the owner as organiser."""
    if room.review_weekday is None or room.review_time is None:
        return None
    # The first review on or after the room's creation: stable across regenerations.
    start = room.next_review(now=room.created_at - timedelta(seconds=1))
    event = Event()
    event.add("uid", review_uid(room))
    event.add("dtstamp", room.updated_at)
    event.add("sequence", room.version)
    event.add("summary", f"Weekly review: {line(room.buyer_company)} × {line(room.org.name)}")
    event.add("dtstart", start)
    event.add("dtend", start + timedelta(minutes=room.review_duration_minutes))
    event.add("rrule", {"freq": "weekly", "byday": WEEKDAYS[room.review_weekday]})
    description = f"Weekly review of the mutual action plan “{line(room.name)}”."
    if url:
        description += f"\n\nThe plan: {url}"
        event.add("url", url)
    event.add("description", description)
    owner = room.owner
    organizer = address(owner.email) if owner is not None and owner.email else None
    if organizer is not None:
        organizer.params["cn"] = vText(line(owner.display_name))
        event.add("organizer", organizer)
    for person in sorted(people, key=lambda p: (p.side != Side.SELLER, p.name)):
        attendee = address(person.email) if person.email else None
        if attendee is None:
            continue
        attendee.params["cn"] = vText(line(person.name))
        attendee.params["role"] = vText("REQ-PARTICIPANT")
        attendee.params["cutype"] = vText("INDIVIDUAL")
        event.add("attendee", attendee)
    return event


def review_ics(room, people, *, url=""):
    """The weekly review as a complete .ics (bytes), or None if the room has no slot."""
    event = review_event(room, people, url=url)
    if event is None:
        return None
    cal = new_calendar(f"{line(room.buyer_company)} weekly review")
    cal.add_component(event)
    add_timezones(cal, room)
    return cal.to_ical()


def review_filename(room):
    return "weekly-review.ics"


# --- per-stakeholder feeds: issue, revoke, find ------------------------------------------


def feed_url(token):
    from django.urls import reverse

    return settings.SITE_URL + reverse("calendar_feed", args=[token])


def feed_issue(*, actor, room, stakeholder):
    """A new calendar feed for one person of the room; earlier feeds of theirs stop
    working (one live feed per person). Returns (feed, raw token): the raw token exists
    only in this return value and what the caller shows once."""
    if stakeholder.room_id != room.pk or stakeholder.org_id != room.org_id:
        raise ValidationError("Pick a person from this room.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        CalendarFeed.objects.active().filter(stakeholder=stakeholder).update(revoked_at=now)
        feed = CalendarFeed.objects.create(
            org_id=room.org_id,
            room=room,
            stakeholder=stakeholder,
            token_hash=hash_token(token),
            created_by=actor.user,
        )
        activity_record(
            room=room, actor=actor, verb=ActivityEvent.Verb.FEED_ISSUED, target=stakeholder
        )
    return feed, token


def feed_revoke(*, actor, room, feed_id, stakeholder=None):
    with transaction.atomic():
        feeds = CalendarFeed.objects.select_for_update().for_room(room)
        if stakeholder is not None:
            feeds = feeds.filter(stakeholder=stakeholder)
        feed = feeds.get(pk=feed_id)
        if feed.revoked_at is None:
            feed.revoked_at = timezone.now()
            feed.save(update_fields=["revoked_at"])
            activity_record(
                room=room,
                actor=actor,
                verb=ActivityEvent.Verb.FEED_REVOKED,
                target=feed.stakeholder,
            )
    return feed


def feed_find(token):
    """The active feed a token names, or None. Malformed tokens never reach the DB."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    return (
        CalendarFeed.objects.active()
        .select_related("stakeholder", "room", "room__org", "room__owner")
        .filter(token_hash=hash_token(token))
        .first()
    )
