"""The weekly check-in's writes: marking a line during the call (through plans' task
and comment services, so every viewer of the room sees it at once), and finishing the
check-in (one CheckIn row, one activity entry, the room's "last check-in" signal and
a recap email to both sides)."""

import logging
import smtplib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import dateformat, timezone

from accounts.models import Organization
from alerts import optout
from alerts.models import AlertSettings
from mapsite import emails
from mapsite.text import clean_text_fields, multi_line, single_line
from plans import services as plan_services
from plans.models import Task, TaskStatus
from plans.selectors import room_schedule
from rooms.activity_log import activity_record
from rooms.models import ActivityEvent, Room
from rooms.revision import room_touch, room_writable
from stakeholders.models import DecisionRole, Side, Stakeholder

from .models import CheckIn
from .selectors import (
    MARKS,
    lines_since,
    next_review_after_today,
    period_start,
    visible_lines,
)

log = logging.getLogger(__name__)

NOTE_MAX = 300  # a line's note is one line said during the call


def _mail_address(email):
    """A stored address as one line, or None when it is not a valid address."""
    email = single_line(email or "", space="")
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def status_for_mark(mark, current):
    """The task status a check-in mark stores, given the task's status now: "done" is
    done, "at risk" is blocked, "on track" clears blocked (in progress) or reopens a
    done task, and leaves a task not started or in progress as it is."""
    if mark == "done":
        return TaskStatus.DONE
    if mark == "at_risk":
        return TaskStatus.BLOCKED
    if mark == "on_track":
        if current in (TaskStatus.BLOCKED, TaskStatus.DONE):
            return TaskStatus.IN_PROGRESS
        return current
    raise ValidationError({"mark": "Mark it on track, at risk or done."})


def checkin_line_mark(*, actor, room, task_id, base_version, mark, note=""):
    """Mark one task during the check-in: its status (``status_for_mark``) through
    ``task_update`` and the note, when there is one, as a comment on its thread (both
    sides read it). ``Task.DoesNotExist`` for a task outside the room; ``StaleWrite``
    when someone else changed its status since ``base_version``."""
    task = Task.objects.for_room(room).get(pk=task_id)
    if mark not in MARKS:
        raise ValidationError({"mark": "Mark it on track, at risk or done."})
    note = single_line(note or "")
    if len(note) > NOTE_MAX:
        raise ValidationError({"note": f"Keep the note to one line ({NOTE_MAX} characters)."})
    room_writable(room)
    status = status_for_mark(mark, task.status)
    if status != task.status:
        task = plan_services.task_update(
            actor=actor,
            room=room,
            task_id=task.pk,
            base_version=base_version,
            changes={"status": status},
        )
    if note:
        plan_services.comment_create(actor=actor, room=room, task=task, body=note)
    return task


def _text(value, label):
    value = multi_line(value or "").strip()
    if len(value) > settings.MAPSITE_MAX_TEXT:
        raise ValidationError({label: f"At most {settings.MAPSITE_MAX_TEXT} characters."})
    return value


def checkin_finish(
    *, actor, room, attendee_ids=(), notes="", decisions="", since_revision=None, now=None
):
    """Record the check-in: who attended (people of the room, either side), the notes
    and decisions, and what changed on the plan since the room's ``since_revision`` (the
    revision the check-in page was opened at; None: nothing is listed). One transaction:
    the CheckIn row, the room's ``last_check_in_at``, its revision and one activity
    entry ("held the weekly check-in"). The recap email goes out once it is committed."""
    room_writable(room)
    wanted = {str(pk) for pk in attendee_ids}
    attendees = list(Stakeholder.objects.for_room(room).filter(pk__in=wanted))
    if len(attendees) != len(wanted):
        raise ValidationError({"attendees": "Pick people from this room."})
    notes, decisions = _text(notes, "notes"), _text(decisions, "decisions")
    now = now or timezone.now()
    last = CheckIn.objects.for_room(room).first()
    lines = lines_since(room, since_revision) if since_revision is not None else []
    plan_schedule = room_schedule(room, today=now.astimezone(room.tzinfo).date())
    checkin = CheckIn(
        org_id=room.org_id,
        room=room,
        held_by=actor.user,
        held_by_label=single_line(actor.label)[:250],
        period_start=period_start(room, last),
        notes=notes,
        decisions=decisions,
        lines=lines,
        target_close_date=room.target_close_date,
        projected_close_date=plan_schedule.projected_close,
        slip_days=plan_schedule.slip_days,
        next_review_at=next_review_after_today(room, now.astimezone(room.tzinfo).date()),
        created_at=now,
        updated_at=now,
    )
    clean_text_fields(checkin)
    names = sorted(f"{p.name} ({p.get_side_display()})" for p in attendees)
    changes = {}
    if names:
        changes["attendees"] = {"label": "Attended", "from": "", "to": ", ".join(names)}
    if decisions:
        changes["decisions"] = {"label": "Decisions", "from": "", "to": decisions[:300]}
    if lines:
        count = len(lines)
        changes["lines"] = {
            "label": "Tasks updated",
            "from": "",
            "to": f"{count} task{'s' if count != 1 else ''}",
        }
    with transaction.atomic():
        checkin.save()
        checkin.attendees.set(attendees)
        Room.objects.filter(pk=room.pk, org_id=room.org_id).update(last_check_in_at=now)
        room_touch(room.pk)
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.CHECKED_IN,
            target=checkin,
            target_label=f"Check-in of {now.astimezone(room.tzinfo):%d %b %Y}",
            changes=changes,
            target_version=checkin.version,
        )
        # robust: a recap that cannot be sent never turns a recorded check-in into an error.
        transaction.on_commit(
            lambda: checkin_recap_send(checkin=checkin, reply_to=actor), robust=True
        )
    room.last_check_in_at = now
    return checkin


# --- the recap -------------------------------------------------------------------------


def recap_recipients(checkin):
    """Who gets the recap: the people who attended, and the plan's owners on both sides
    (the room's owner, the buyer's champions), each address once, as
    (address, name, stakeholder or None)."""
    room = checkin.room
    people = list(checkin.attendees.all())
    people += list(
        Stakeholder.objects.for_room(room).filter(side=Side.BUYER, role=DecisionRole.CHAMPION)
    )
    found, seen = [], set()
    owner = _mail_address(room.owner.email) if room.owner is not None else None
    if owner is not None:
        found.append((owner, room.owner.display_name, None))
        seen.add(owner.lower())
    for person in people:
        address = _mail_address(person.email) if person.email else None
        if address is None or address.lower() in seen:
            continue
        seen.add(address.lower())
        found.append((address, single_line(person.name), person))
    return found


def _status_words(line):
    if line.get("from") and line.get("to"):
        return f"{line['from']} → {line['to']}"
    return ""


def recap_email(checkin, *, address, name, person, sender_name, reply_to=None):
    """One recipient's recap (mapsite.emails, the "checkin_recap" pair). A buyer reads
    only the lines of the tasks they see, and is sent the room's token-free address (their
    personal link opens it) with the page to ask for a new link; a seller gets the
    room's check-in page."""
    room = checkin.room
    lines = checkin.lines
    buyer = person is not None and person.side == Side.BUYER
    if buyer:
        seen = Task.objects.for_room(room).visible_to(person).values_list("pk", flat=True)
        lines = visible_lines(lines, seen)
        link = settings.SITE_URL + reverse("buyer_checkins:page")
    else:
        link = settings.SITE_URL + reverse("checkins:page", args=[room.pk])
    tz = room.tzinfo
    held = checkin.created_at.astimezone(tz)
    next_review = checkin.next_review_at.astimezone(tz) if checkin.next_review_at else None
    context = {
        "name": name,
        "room_name": single_line(room.name),
        "buyer_company": single_line(room.buyer_company),
        "held_by": checkin.held_by_label,
        # Written out here, in the room's timezone (a template would show them in the
        # server's).
        "held_on": dateformat.format(held, "l j F Y"),
        "attendees": [
            f"{p.name} ({p.get_side_display()})"
            for p in sorted(checkin.attendees.all(), key=lambda p: (p.side, p.name))
        ],
        "notes": checkin.notes,
        "decisions": checkin.decisions,
        "lines": [line | {"status": _status_words(line)} for line in lines],
        "target_close": checkin.target_close_date,
        "projected_close": checkin.projected_close_date,
        "slip_days": checkin.slip_days,
        "next_review": dateformat.format(next_review, "l j F Y, H:i") if next_review else "",
        "timezone": room.timezone,
        "link": link,
        "link_label": f"Open the check-in for {single_line(room.buyer_company)}",
        "buyer": buyer,
        "new_link_url": optout.new_link_url(room, address) if buyer else "",
    }
    alert_settings = AlertSettings.objects.filter(org_id=room.org_id).first()
    org = Organization.objects.get(pk=room.org_id)
    return emails.build(
        "checkin_recap",
        context,
        subject=f"Check-in recap: {room.buyer_company}, {held:%d %b %Y}",
        to=[address],
        sender=(sender_name, org.name, alert_settings.sender_email if alert_settings else None),
        reply_to=_mail_address(reply_to) if reply_to else None,
    )


def checkin_recap_send(*, checkin, reply_to=None):
    """Email the recap to each recipient (``recap_recipients``), from the seller who
    held the check-in. A recipient the mail server refuses is logged and skipped; the
    check-in stays recorded either way. Returns the addresses sent to."""
    checkin = CheckIn.objects.select_related("room", "room__owner").get(pk=checkin.pk)
    sender = checkin.held_by_label
    reply = reply_to.user.email if reply_to is not None and reply_to.user is not None else None
    sent = []
    for address, name, person in recap_recipients(checkin):
        message = recap_email(
            checkin, address=address, name=name, person=person, sender_name=sender, reply_to=reply
        )
        try:
            message.send()
        except (OSError, smtplib.SMTPException, ValueError) as exc:
            log.warning(
                "Check-in recap to a recipient of room %s not sent: %s", checkin.room_id, exc
            )
            continue
        sent.append(address)
    return sent
