"""The two poll views, the seller's and the buyer's: the ticket and the cache hints (or
the one query) answer "nothing changed" with a 204; news is rendered only after the
full checks of a page, with who is here when the page asks."""

import json
import time

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from rooms.actors import clean_window
from rooms.models import Room
from rooms.revision import REVISION_HINT_TTL, revision_hint_key
from stakeholders.buyer_views import protect
from stakeholders.links import (
    LINK_HINT_TTL,
    LinkGone,
    active_link_row,
    buyer_session,
    link_hint_key,
)

from ..selectors import buyer_room, room_plan
from .changes import changes_since
from .fragments import _buyer_fragments, _fragment_context, _seller_fragments
from .presence import SESSION_LABEL, presence_key, presence_touch
from .tickets import _ticket, seller_revision

MEMBER_HINT_TTL = 30  # seconds a poll may trust a cached "this user is a member"


def _since(request):
    try:
        return int(request.GET.get("rev", ""))
    except ValueError:
        return None


def _answer(request, *, room_id, revision, since, viewer, label, side, render, stored=None):
    presence_changed = False
    if request.GET.get("p") == "1":
        people, digest = presence_touch(room_id, viewer, label, side, stored)
        presence_changed = request.GET.get("here") != digest
    if revision == since and not presence_changed:
        return HttpResponse(status=204)
    fragments, changed_by, reload = [], {}, False
    if revision != since:
        rendered = render(since)
        if rendered is None:
            return HttpResponse(status=403)
        fragments, changed_by, reload = rendered
    if presence_changed:
        fragments.append(
            render_to_string("plans/_presence.html", {"people": people, "digest": digest})
        )
    response = HttpResponse("\n".join(fragments))
    response["X-Room-Revision"] = str(revision)
    response["X-Live-Changed-By"] = json.dumps(changed_by)
    if reload:
        response["X-Live-Reload"] = "1"
    return response


# --- sellers -------------------------------------------------------------------------


@require_GET
def seller_poll(request, room_id):
    ticket = _ticket(request)
    since = _since(request)
    if ticket is None or not ticket.startswith("u:"):
        return HttpResponse(status=403)
    _, user_id, ticket_room = ticket.split(":", 2)
    if ticket_room != str(room_id):
        return HttpResponse(status=403)
    if since is None:
        return HttpResponseBadRequest("rev must be a number")
    # From the cache when it has both hints; otherwise one query that reads the revision
    # and proves membership at the same time.
    keys = [revision_hint_key(room_id), f"live:member:{user_id}:{room_id}"]
    with_presence = request.GET.get("p") == "1"
    if with_presence:
        keys.append(presence_key(room_id))
    hints = cache.get_many(keys)
    revision = hints.get(keys[0])
    if revision is None or keys[1] not in hints:
        revision = seller_revision(room_id, user_id)
        if revision is None:
            return HttpResponse(status=404)
        cache.add(keys[0], revision, REVISION_HINT_TTL)
        cache.add(keys[1], True, MEMBER_HINT_TTL)

    def render(since):
        # Something to show: the full checks, as for any page (session and membership).
        if str(request.session.get("_auth_user_id")) != user_id:
            return None
        try:
            room = Room.objects.for_user(user_id).select_related("owner").get(pk=room_id)
        except Room.DoesNotExist:
            return None
        window = clean_window(request.GET.get("w"))  # only read when there is news
        changes = changes_since(room, since, window=window, user_id=user_id)
        if changes.reload:
            return [], {}, True
        return _seller_fragments(_fragment_context(room_plan(room), request), changes)

    return _answer(
        request,
        room_id=room_id,
        revision=revision,
        since=since,
        viewer=f"u{user_id}",
        label=request.session.get(SESSION_LABEL, "A teammate")
        if request.GET.get("p") == "1"
        else "",
        side="seller",
        render=render,
    )


# --- buyers --------------------------------------------------------------------------


@require_GET
def buyer_poll(request):
    ticket = _ticket(request)
    since = _since(request)
    if ticket is None or not ticket.startswith("s:"):
        return protect(HttpResponse(status=403))
    _, link_id, ticket_room = ticket.split(":", 2)
    if since is None:
        return protect(HttpResponseBadRequest("rev must be a number"))
    # The link's state from the cache (dropped when it is revoked) or one query that
    # checks it is active and reads its room's revision at the same time.
    link_key = link_hint_key(link_id)
    keys = [link_key, revision_hint_key(ticket_room)]
    if request.GET.get("p") == "1":
        keys.append(presence_key(ticket_room))
    hints = cache.get_many(keys)  # one round trip to the cache
    link_hint, revision = hints.get(link_key), hints.get(keys[1])
    if link_hint is not None and link_hint["expires"] > time.time():
        room_id, stakeholder_id, name = link_hint["room"], link_hint["who"], link_hint["name"]
    else:
        revision = None
    if revision is None:
        row = active_link_row(link_id)
        if row is None:
            cache.delete(link_key)
            response = HttpResponse(status=410)
            response["HX-Refresh"] = "true"
            return protect(response)
        room_id, revision, stakeholder_id = str(row.room_id), row.revision, str(row.stakeholder_id)
        name, expires = row.name, row.expires
        cache.add(revision_hint_key(room_id), revision, REVISION_HINT_TTL)
        cache.add(
            link_key,
            {
                "room": room_id,
                "who": stakeholder_id,
                "name": name,
                "expires": min(expires, time.time() + LINK_HINT_TTL),
            },
            LINK_HINT_TTL,
        )

    def render(since):
        # Something to show: the full buyer-session check, as for any buyer page.
        try:
            access = buyer_session(request)
        except LinkGone:
            return None
        if access is None or str(access.link.pk) != link_id:
            return None
        changes = changes_since(
            access.room,
            since,
            window=clean_window(request.GET.get("w")),
            stakeholder_id=access.stakeholder.pk,
        )
        if changes.reload:
            return [], {}, True
        return _buyer_fragments(_fragment_context(buyer_room(access), request), changes)

    return protect(
        _answer(
            request,
            room_id=room_id,
            revision=revision,
            since=since,
            viewer=f"s{stakeholder_id}",
            label=name,
            side="buyer",
            render=render,
        )
    )
