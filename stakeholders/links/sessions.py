"""A buyer's way in: the link a token names, the session it starts, and what a buyer
looks at.

Opening a link starts a fresh session bound to that one link (and so to one
stakeholder and one room). Every later request re-checks the link (``buyer_session``),
so revocation and expiry bite on the very next click; a page read may use the link as
a read of the last few seconds left it in the cache, checked by one small query. Here
too: the token's format, the cache keys of a link, the views recorded and the
engagement sellers read from them.
"""

import datetime
import re
import uuid
from dataclasses import dataclass
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from accounts.models import hash_token
from mapsite.prepared import Prepared
from rooms.activity_log import activity_record
from rooms.actors import Actor, request_window
from rooms.models import ActivityEvent

from ..models import AccessLink, Stakeholder, ViewEvent
from ..services import room_buyer_activity

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


def link_hint_key(link_id):
    return f"live:link:{link_id}"


def kept_link_key(link_id):
    return f"buyer:link:{link_id}"


def forget_links(link_ids):
    """Whatever the cache holds of these links (revoked: call on commit)."""
    cache.delete_many([key(pk) for pk in link_ids for key in (link_hint_key, kept_link_key)])


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


# The query of ``active_link_row``: what ``AccessLink.objects.active`` says, compiled
# once (mapsite.prepared) — the live poll and kept links run it on every request.
_ACTIVE_LINK = Prepared(
    lambda link_id, now: (
        AccessLink.objects.active(now)
        .filter(pk=link_id)
        .values_list(
            "room_id",
            "room__revision",
            "stakeholder_id",
            "stakeholder__name",
            "stakeholder__scope",
            "stakeholder__track",
            "expires_at",
        )
    ),
    link_id=(AccessLink._meta.pk, uuid.UUID(int=1)),
    now=(
        AccessLink._meta.get_field("expires_at"),
        datetime.datetime(2000, 1, 1, tzinfo=datetime.UTC),
    ),
)


def active_link_row(link_id):
    """The link's LinkRow if it is still active (one query compiled once, for the hot
    paths: live polls, kept links)."""
    row = _ACTIVE_LINK.first(link_id=link_id, now=timezone.now())
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


# --- sellers: engagement ----------------------------------------------------------------


def engagement_for(room):
    """Per stakeholder of the room who has looked: first opened, last seen, visits,
    views (one query; ``StakeholderQuerySet.with_engagement``)."""
    people = Stakeholder.objects.for_room(room).with_engagement()
    return {person.pk: person.engagement for person in people if person.engagement}
