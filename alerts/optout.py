"""Links in alert emails: "Stop reminders for this room" and "Ask for a new link".

Both carry a signed token (django.core.signing, each with its own salt) naming the
organisation, the room and the recipient's address; nothing is stored to make them, and
no token is kept in the notification's stored words (delivery adds the links when it
sends). The stop token does not expire (an old reminder's link must still work, as
RFC 8058 expects); the ask token lasts NEW_LINK_MAX_AGE.

- ``reminders_stop``: records the opt-out (alerts.EmailOptOut, once per room and
  address) and tells the seller through the room's activity ("Maria Lopez stopped email
  reminders for room …"); delivery then skips that address's reminders for that room.
- ``reminders_resume``: undoes it from the same page ("Turn reminders back on"), told to
  the seller the same way.
- ``new_link_request``: a buyer asks the seller team for a new personal link. The
  room's owner is emailed when the address is a buyer of the room (at most once per
  NEW_LINK_EVERY per address and room); the page says the same thing either way.
"""

import logging
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.urls import reverse

from mapsite import emails
from rooms.activity_log import activity_record
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.models import Side, Stakeholder

from .models import EmailOptOut

log = logging.getLogger(__name__)

STOP_SALT = "alerts.stop-reminders"
NEW_LINK_SALT = "alerts.ask-new-link"
NEW_LINK_MAX_AGE = timedelta(days=60)
NEW_LINK_EVERY = timedelta(hours=1)
TOKEN_MAX_LENGTH = 400
OPTED_OUT = "The recipient stopped email reminders for this room"


class BadToken(Exception):  # noqa: N818 - a refusal, not a crash
    """The token was not made by this site for this purpose (or is too old)."""


def _token(room, address, salt):
    payload = {"o": str(room.org_id), "r": str(room.pk), "a": address.strip().lower()}
    return signing.dumps(payload, salt=salt, compress=True)


def stop_token(room, address):
    return _token(room, address, STOP_SALT)


def new_link_token(room, address):
    return _token(room, address, NEW_LINK_SALT)


def stop_url(room, address):
    return settings.SITE_URL + reverse("email_stop", args=[stop_token(room, address)])


def new_link_url(room, address):
    return settings.SITE_URL + reverse("email_new_link", args=[new_link_token(room, address)])


def _read(token, salt, max_age=None):
    """(room, address) the token names. BadToken if it is not ours; Room.DoesNotExist
    if the room is gone or is not the organisation's the token names."""
    if not isinstance(token, str) or len(token) > TOKEN_MAX_LENGTH:
        raise BadToken
    try:
        data = signing.loads(token, salt=salt, max_age=max_age)
        org_id, room_id, address = data["o"], data["r"], data["a"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        raise BadToken from None
    try:
        room = Room.objects.select_related("org", "owner").get(pk=room_id, org_id=org_id)
    except (ValueError, TypeError, Room.DoesNotExist):  # a malformed id is not found either
        raise Room.DoesNotExist from None
    return room, str(address)


def read_stop_token(token):
    return _read(token, STOP_SALT)


def read_new_link_token(token):
    return _read(token, NEW_LINK_SALT, max_age=NEW_LINK_MAX_AGE)


def is_opted_out(room_id, address):
    return EmailOptOut.objects.filter(room_id=room_id, address=address.strip().lower()).exists()


def _person(room, address):
    return Stakeholder.objects.for_room(room).filter(email__iexact=address).order_by("side").first()


def reminders_stop(*, room, address):
    """Stop ``address``'s email reminders for ``room``. Returns the opt-out; once per
    room and address (a second call changes nothing, logs nothing)."""
    address = address.strip().lower()
    existing = EmailOptOut.objects.filter(room=room, address=address).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            opt_out = EmailOptOut.objects.create(org_id=room.org_id, room=room, address=address)
            _tell_seller(room, address, ActivityEvent.Verb.REMINDERS_STOPPED, "", address)
    except IntegrityError:  # the same click twice at once
        return EmailOptOut.objects.get(room=room, address=address)
    return opt_out


def reminders_resume(*, room, address):
    """Undo ``reminders_stop``: ``address`` gets the room's reminders again, and the
    seller is told the same way. Returns whether there was an opt-out to undo."""
    address = address.strip().lower()
    with transaction.atomic():
        deleted, _ = EmailOptOut.objects.filter(room=room, address=address).delete()
        if deleted:
            _tell_seller(room, address, ActivityEvent.Verb.REMINDERS_RESUMED, address, "")
    return bool(deleted)


def _tell_seller(room, address, verb, before, after):
    """The room's activity says who (the stakeholder with that address, or the address
    itself) stopped or resumed reminders."""
    person = _person(room, address)
    activity_record(
        room=room,
        actor=Actor(stakeholder=person) if person else Actor.system(),
        actor_label=person.name if person else address,
        verb=verb,
        target=room,
        target_label=room.name,
        changes={"address": {"label": "Address", "from": before, "to": after}},
    )


def opt_outs_for(room):
    """The room's opt-outs, each with ``name`` (the stakeholder's, when one has it)."""
    rows = list(EmailOptOut.objects.for_room(room))
    names = {
        email.lower(): name
        for email, name in Stakeholder.objects.for_room(room)
        .exclude(email="")
        .values_list("email", "name")
    }
    for row in rows:
        row.name = names.get(row.address, "")
    return rows


def new_link_request(*, room, address):
    """Ask the room's owner to send ``address`` a new personal link. True if the owner
    was emailed; the caller must answer the same either way."""
    address = address.strip().lower()
    person = _person(room, address)
    owner = room.owner
    if person is None or person.side != Side.BUYER or owner is None or room.is_read_only:
        return False
    key = f"alerts:new-link:{room.pk}:{person.pk}"
    if not cache.add(key, 1, int(NEW_LINK_EVERY.total_seconds())):
        return False
    access = settings.SITE_URL + reverse("stakeholders:access", args=[room.pk, person.pk])
    emails.build(
        "new_link_request",
        {"name": person.name, "address": address, "room_name": room.name, "url": access},
        subject=f"{person.name} asks for a new link to {room.name}",
        to=[owner.email],
        sender=("", room.org.name, None),
    ).send()
    return True
