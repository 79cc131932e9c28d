"""Buyer links: issuing, revoking, opening, and the buyer session they start.

A link is a capability: 256 random bits from the OS's CSPRNG, shown once, stored only
as its SHA-256. Opening it starts a fresh session bound to that one link (and so to one
stakeholder and one room) and redirects to a URL without the token. Every later
request re-checks the link, so revocation and expiry bite on the very next click.
"""

import datetime
import re
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import hash_token
from mapsite import emails
from mapsite.text import single_line
from rooms.activity_log import activity_record
from rooms.actors import Actor, request_window
from rooms.models import ActivityEvent, Room

from .models import AccessLink, Side, Stakeholder, ViewEvent
from .services import room_buyer_activity

SESSION_KEY = "buyer_link"
LINK_HINT_TTL = 30  # seconds a live poll may trust a cached "this link is active"
KEPT_LINK_TTL = 30  # seconds a page read may use a link read before (see _kept_link)
TOKEN_BYTES = 32  # 256 bits
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{43}$")  # token_urlsafe(32), nothing else
VISIT_GAP = timedelta(minutes=30)
# A buyer reloading the room is logged once a minute per link: the seller's figures
# (first opened, last seen, visits) stay right to the minute without a write per load.
ROOM_VIEW_EVERY = 60  # seconds


class LinkGone(Exception):  # noqa: N818 - a state, not a crash
    """The link behind a buyer session was revoked or has expired."""

    def __init__(self, link):
        super().__init__(f"link {link.pk} is {link.state}")
        self.link = link


@dataclass(frozen=True)
class BuyerAccess:
    """Who a buyer request is: one link, one stakeholder, one room, and the open page
    (window) it came from, if any (see rooms/actors.py)."""

    link: AccessLink
    window: str = ""

    @property
    def stakeholder(self):
        return self.link.stakeholder

    @property
    def room(self):
        return self.link.room

    @property
    def actor(self):
        """The stakeholder as the author of a change made through this request."""
        return Actor(stakeholder=self.stakeholder, window=self.window)


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


def link_hint_key(link_id):
    return f"live:link:{link_id}"


def kept_link_key(link_id):
    return f"buyer:link:{link_id}"


def forget_links(link_ids):
    """Whatever the cache holds of these links (revoked: call on commit)."""
    cache.delete_many([key(pk) for pk in link_ids for key in (link_hint_key, kept_link_key)])


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
    from .calendar import review_ics  # the calendar module builds on this one

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


# --- buyers: open, session, views -----------------------------------------------------


def link_find(token):
    """The link a token names, or None. Malformed tokens never reach the database."""
    if not isinstance(token, str) or not TOKEN_RE.fullmatch(token):
        return None
    return (
        AccessLink.objects.select_related(
            "stakeholder", "room", "room__owner", "room__org", "room__plan"
        )
        .filter(token_hash=hash_token(token))
        .first()
    )


def buyer_session_start(request, link):
    """Exchange an active link for a session bound to it (new session key)."""
    request.session.cycle_key()
    request.session[SESSION_KEY] = str(link.pk)
    if not _is_seller(request, link.room):  # a seller trying the link is not its use
        AccessLink.objects.filter(pk=link.pk).update(last_used_at=timezone.now())
        view_record(BuyerAccess(link), kind=ViewEvent.Kind.OPENED_LINK)


def buyer_session(request):
    """The BuyerAccess of this request, None without one; LinkGone if it was cut off.

    A page read (GET) may use the link as a read of the last few seconds left it in
    the cache, checked by one small query (``_kept_link``); every write reads it from
    the database."""
    link_id = request.session.get(SESSION_KEY)
    if not link_id:
        return None
    link = _kept_link(link_id) if request.method in ("GET", "HEAD") else None
    if link is None:
        try:
            link = AccessLink.objects.select_related(
                "stakeholder", "room", "room__owner", "room__org", "room__plan"
            ).get(pk=link_id)
        except AccessLink.DoesNotExist:
            return None
        _keep_link(link)
    if link.state != "active":
        raise LinkGone(link)
    return BuyerAccess(link, window=request_window(request))


def _kept_link(link_id):
    """The link with its stakeholder and room as a read of the last KEPT_LINK_TTL
    seconds left it, if one small query finds the link still active, its room at the
    revision it was read at (every change in the room moves it) and its stakeholder's
    scope and track as they were (whoever changed them)."""
    link = cache.get(kept_link_key(link_id))
    if link is None:
        return None
    row = active_link_row(link_id)
    person = link.stakeholder
    if row is None or (row.revision, row.scope, row.track) != (
        link.room.revision,
        person.scope,
        person.track,
    ):
        return None
    return link


def _keep_link(link):
    cache.set(kept_link_key(link.pk), link, KEPT_LINK_TTL)


@dataclass(frozen=True)
class LinkRow:
    room_id: uuid.UUID
    revision: int
    stakeholder_id: uuid.UUID
    name: str
    scope: str
    track: str
    expires: float  # a timestamp


def active_link_row(link_id):
    """The link's LinkRow if it is still active (one raw query, for the hot paths: live
    polls, kept links)."""
    link = AccessLink._meta
    sql = (
        "SELECT l.room_id, r.revision, l.stakeholder_id, s.name, s.scope, s.track, "
        f"l.expires_at FROM {link.db_table} l "
        f"JOIN {Room._meta.db_table} r ON r.id = l.room_id "
        f"JOIN {Stakeholder._meta.db_table} s ON s.id = l.stakeholder_id "
        "WHERE l.id = %s AND l.revoked_at IS NULL AND l.expires_at > %s"
    )
    now = link.get_field("expires_at").get_db_prep_value(timezone.now(), connection)
    with connection.cursor() as cursor:
        cursor.execute(sql, [link.pk.get_db_prep_value(link_id, connection), now])
        row = cursor.fetchone()
    if row is None:
        return None
    room_id, revision, stakeholder_id, name, scope, track, expires = row
    if isinstance(expires, str):  # SQLite
        expires = parse_datetime(expires)
    if timezone.is_naive(expires):
        expires = timezone.make_aware(expires, datetime.UTC)
    return LinkRow(
        room_id=uuid.UUID(str(room_id)),  # SQLite returns hex, PostgreSQL a UUID
        revision=revision,
        stakeholder_id=uuid.UUID(str(stakeholder_id)),
        name=name,
        scope=scope,
        track=track,
        expires=expires.timestamp(),
    )


def buyer_session_end(request):
    request.session.pop(SESSION_KEY, None)
    request.session.cycle_key()


def _is_seller(request, room):
    user = getattr(request, "user", None)
    return bool(
        user is not None
        and user.is_authenticated
        and user.memberships.filter(org_id=room.org_id).exists()
    )


def view_record(access, *, kind, label="", request=None):
    """Log what a buyer looked at. Sellers looking through a buyer link don't count."""
    if request is not None and _is_seller(request, access.room):
        return None
    if kind == ViewEvent.Kind.ROOM and not cache.add(
        f"room-viewed:{access.link.pk}", 1, ROOM_VIEW_EVERY
    ):
        return None  # logged less than a minute ago
    now = timezone.now()
    last = (
        ViewEvent.objects.filter(stakeholder=access.stakeholder)
        .values_list("created_at", flat=True)
        .first()
    )
    view = ViewEvent.objects.create(
        org_id=access.room.org_id,
        room=access.room,
        stakeholder=access.stakeholder,
        link=access.link,
        kind=kind,
        target_label=label[:250],
        starts_visit=last is None or now - last > VISIT_GAP,
        created_at=now,
    )
    if last is None:
        # Their first look at the room: logged once, like any other change (webhooks
        # read it from the log).
        activity_record(
            room=access.room,
            actor=access.actor,
            verb=ActivityEvent.Verb.FIRST_VIEW,
            target=access.stakeholder,
            target_label=access.room.name,
        )
    room_buyer_activity(room_id=access.room.pk, stakeholder=access.stakeholder, at=now)
    return view


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


# --- sellers: engagement ----------------------------------------------------------------


def engagement_for(room):
    """Per stakeholder of the room who has looked: first opened, last seen, visits,
    views (one query; ``StakeholderQuerySet.with_engagement``)."""
    people = Stakeholder.objects.for_room(room).with_engagement()
    return {person.pk: person.engagement for person in people if person.engagement}
