"""Giving buyer links out: a seller issues one (and may email it), revokes one, and a
buyer whose link expired asks for a fresh one.

A link is a capability: 256 random bits from the OS's CSPRNG, shown once, stored only
as its SHA-256; the raw token exists only in what these functions return or send.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import hash_token
from mapsite import emails
from mapsite.text import single_line
from rooms.activity_log import activity_record
from rooms.actors import Actor
from rooms.models import ActivityEvent

from ..models import AccessLink, Side, Stakeholder
from .sessions import TOKEN_BYTES, forget_links, link_find

# --- sellers: issue and revoke ----------------------------------------------------------


def link_issue(*, actor, room, stakeholder, days=None, revoke_others=False):
    """A new personal link for a buyer stakeholder. Returns (link, raw token); the raw
    token exists only in this return value and in what the caller shows or sends."""
    if stakeholder.room_id != room.pk or stakeholder.org_id != room.org_id:
        raise ValidationError("Pick a person from this room.")
    if stakeholder.side != Side.BUYER:
        raise ValidationError("Links are for the buyer's people; your team signs in.")
    if room.is_read_only:
        raise ValidationError("This deal was marked lost: reopen it before inviting anyone.")
    days = settings.BUYER_LINK_TTL_DAYS if days is None else days
    if not 1 <= days <= 365:
        raise ValidationError("A link lasts between 1 and 365 days.")
    token = secrets.token_urlsafe(TOKEN_BYTES)
    now = timezone.now()
    with transaction.atomic():
        revoked = 0
        if revoke_others:
            others = list(
                AccessLink.objects.active()
                .filter(stakeholder=stakeholder)
                .values_list("pk", flat=True)
            )
            revoked = AccessLink.objects.filter(pk__in=others).update(revoked_at=now)
            transaction.on_commit(lambda: forget_links(others))
        link = AccessLink.objects.create(
            org_id=room.org_id,
            room=room,
            stakeholder=stakeholder,
            token_hash=hash_token(token),
            created_by=actor.user,
            expires_at=now + timedelta(days=days),
        )
        changes = {"expires": {"label": "Expires", "from": "", "to": f"{link.expires_at:%Y-%m-%d}"}}
        if revoked:
            changes["revoked"] = {"label": "Earlier links revoked", "from": "", "to": str(revoked)}
        activity_record(
            room=room,
            actor=actor,
            verb=ActivityEvent.Verb.LINK_ISSUED,
            target=stakeholder,
            changes=changes,
        )
    return link, token


def link_issue_and_send(
    *, actor, room, stakeholder, days=None, revoke_others=False, send_email=False, note=""
):
    """Issue a link and, if asked, email it — both or neither: a link that could not be
    sent is not left behind (nor are earlier links revoked for it). Returns the URL,
    the only place the raw token goes."""
    try:
        with transaction.atomic():
            _, token = link_issue(
                actor=actor,
                room=room,
                stakeholder=stakeholder,
                days=days,
                revoke_others=revoke_others,
            )
            url = link_url(token)
            if send_email:
                link_send(
                    room=room,
                    stakeholder=stakeholder,
                    url=url,
                    sender_name=actor.label,
                    reply_to=actor.user.email if actor.user else None,
                    note=note,
                )
    except OSError as exc:  # the mail server could not be reached
        raise ValidationError(
            "The email could not be sent; no link was issued. Try again, "
            "or untick “Email it” and send the link yourself."
        ) from exc
    return url


def link_url(token):
    return settings.SITE_URL + reverse("buyer:open", args=[token])


def _mail_address(email):
    """A stored address as one line, or None when even that is not a valid address."""
    email = single_line(email, space="")
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email


def link_send(*, room, stakeholder, url, sender_name, reply_to=None, note=""):
    """Email a freshly issued link to the stakeholder (mapsite.emails: plain text and
    HTML, from the sender's name at the server's address, replies to them). Names go in
    as one line each: rows saved before names were cleaned (mapsite.text) may hold a
    line break, which a mail header refuses."""
    name = single_line(stakeholder.name)
    if not stakeholder.email:
        raise ValidationError(f"{name} has no email address on the map.")
    to = _mail_address(stakeholder.email)
    if to is None:
        raise ValidationError(
            f"{name}'s email address on the map is not a valid address: correct it, "
            "then send the link."
        )
    reply_to = _mail_address(reply_to) if reply_to else None
    from ..calendar import review_ics  # the calendar module builds on this one

    invite = review_ics(room, list(Stakeholder.objects.for_room(room).seen_by(stakeholder)))
    message = emails.build(
        "link",
        {
            "name": name,
            "note": note.strip(),
            "sender_name": single_line(sender_name),
            "room_name": single_line(room.name),
            "url": url,
            "review_slot": room.review_slot_label if invite is not None else "",
        },
        subject=f"Your link to the {single_line(room.buyer_company)} plan",
        to=[to],
        sender=(sender_name, room.org.name, None),
        reply_to=reply_to,
    )
    if invite is not None:
        message.attach("weekly-review.ics", invite.decode(), "text/calendar")
    message.send()


def link_revoke(*, actor, room, link_id, stakeholder=None):
    """Revoke one link of the room (of ``stakeholder`` when given)."""
    with transaction.atomic():
        links = AccessLink.objects.select_for_update().for_room(room)
        if stakeholder is not None:
            links = links.filter(stakeholder=stakeholder)
        link = links.get(pk=link_id)
        if link.revoked_at is None:
            link.revoked_at = timezone.now()
            link.save(update_fields=["revoked_at"])
            # Live polls and pages may hold this link's state in the cache: drop it.
            transaction.on_commit(lambda: forget_links([link.pk]))
            activity_record(
                room=room,
                actor=actor,
                verb=ActivityEvent.Verb.LINK_REVOKED,
                target=link.stakeholder,
            )
    return link


# --- buyers: a fresh link for an expired one ------------------------------------------


def link_refresh_request(*, token, email):
    """A buyer whose link expired asks for a fresh one. Sent only when the address is the
    stakeholder's own and the link expired (not revoked). Returns whether one was sent;
    the caller must say the same thing either way."""
    link = link_find(token)
    if link is None or link.state != "expired" or link.room.is_read_only:
        return False
    person = link.stakeholder
    if not person.email or person.email.strip().lower() != (email or "").strip().lower():
        return False
    owner = link.room.owner
    try:
        with transaction.atomic():  # a link that cannot be sent is not left behind
            _, fresh = link_issue(
                actor=Actor(stakeholder=person), room=link.room, stakeholder=person
            )
            link_send(
                room=link.room,
                stakeholder=person,
                url=link_url(fresh),
                sender_name=owner.display_name if owner else link.room.org.name,
                reply_to=owner.email if owner else None,
                note="You asked for a fresh link; here it is.",
            )
    except ValidationError:  # the address on the map is not a valid one
        return False
    return True
