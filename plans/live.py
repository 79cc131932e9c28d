"""Live updates for everyone in a room (sellers and buyers).

A viewer polls about once a second with the room revision its page shows and the
signed "live ticket" its page was given (who it is, for which room). Nothing changed:
204, after one SQL query (which also re-checks access: a revoked link or a removed
member is refused at once) and no session read. Every fourth poll also refreshes
"who's here" in the shared cache. Something changed:
200 with fresh HTML of just the rows and sections that changed since that revision
(read from the activity log), the new revision in ``X-Room-Revision`` and who made
each change in ``X-Live-Changed-By``. static/js/live.js swaps them in, except where
the viewer is typing or has a conflict card open. A missed poll heals itself: the next
one asks from the revision the page has. Who is here is kept in the shared cache, never
in process memory.

Each page names its window (``w``, see rooms/actors.py): a change made from that window
is not sent back to it, and every other window gets it, the same person's included.
"""

import hashlib
import json
import time
import uuid

from django.core import signing
from django.core.cache import cache
from django.db import connection
from django.http import HttpResponse, HttpResponseBadRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from accounts.models import Membership
from rooms.actors import clean_window
from rooms.models import ActivityEvent, Room
from rooms.revision import REVISION_HINT_TTL, revision_hint_key
from stakeholders.buyer_views import protect
from stakeholders.links import (
    LINK_HINT_TTL,
    LinkGone,
    active_link_row,
    buyer_session,
    link_hint_key,
)

from .selectors import buyer_room, room_plan

PRESENCE_TTL = 10  # seconds without a presence poll before a viewer leaves "who's here"
MEMBER_HINT_TTL = 30  # seconds a poll may trust a cached "this user is a member"
TICKET_MAX_AGE = 24 * 3600  # a page older than this reloads to get a new ticket
_signer = signing.TimestampSigner(salt="mapsite.live")
MAX_EVENTS = 300  # more changes than this since a page's revision: reload instead
SESSION_LABEL = "live_label"


# --- tickets and the one query ------------------------------------------------------


def seller_ticket(user_id, room_id):
    return _signer.sign(f"u:{user_id}:{room_id}")


def buyer_ticket(link_id, room_id):
    return _signer.sign(f"s:{link_id}:{room_id}")


def _ticket(request):
    try:
        return _signer.unsign(request.headers.get("X-Live-Ticket", ""), max_age=TICKET_MAX_AGE)
    except signing.BadSignature:  # also expired
        return None


def _db(field, value):
    return field.get_db_prep_value(value, connection)


def _seller_revision(room_id, user_id):
    """The room's revision if the user is still a member of its organisation."""
    membership = Membership._meta
    sql = (
        f"SELECT r.revision FROM {Room._meta.db_table} r "
        f"JOIN {membership.db_table} m ON m.org_id = r.org_id "
        "WHERE r.id = %s AND m.user_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(Room._meta.pk, room_id), int(user_id)])
        row = cursor.fetchone()
    return row[0] if row else None


# --- presence -----------------------------------------------------------------------


def presence_key(room_id):
    return f"presence:{room_id}"


def presence_touch(room_id, viewer, label, side, stored=None):
    """Mark ``viewer`` present; return everyone present, sorted, and a short hash.

    The room's entry is rewritten only when this viewer's mark is getting old, so most
    presence polls cost one cache read (which the caller may already have made).
    """
    key = presence_key(room_id)
    now = time.time()
    if stored is None:
        stored = cache.get(key) or {}
    here = {k: v for k, v in stored.items() if now - v["ts"] < PRESENCE_TTL}
    mine = here.get(viewer)
    if mine is None or now - mine["ts"] > PRESENCE_TTL / 2 or mine["label"] != label:
        here[viewer] = {"label": label, "side": side, "ts": now}
        cache.set(key, here, timeout=PRESENCE_TTL * 10)
    people = sorted(
        ({"label": v["label"], "side": v["side"]} for v in here.values()),
        key=lambda p: (p["side"] != "seller", p["label"]),
    )
    digest = hashlib.sha1(
        json.dumps(people, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:12]
    return people, digest


# --- what changed --------------------------------------------------------------------


class Changes:
    """What changed after a revision, as a viewer's page needs it: the rows and sections
    to redraw, and who changed each. Changes made from the viewer's own window are
    already on its page: they only refresh the summaries that count them."""

    def __init__(self):
        self.tasks = {}  # task id -> who
        self.milestones = {}
        self.sections = {}  # section name -> who
        self.summary = False  # the plan's counts or agreement moved
        self.reload = False

    def __bool__(self):
        return bool(self.tasks or self.milestones or self.sections or self.summary or self.reload)


YOU_ELSEWHERE = "you in another window"


def changes_since(room, since, *, window="", user_id=None, stakeholder_id=None):
    """The changes after revision ``since`` for a viewer: its window (skipped, it shows
    them already) and who it is (its changes from other windows are named as such)."""
    events = list(
        ActivityEvent.objects.filter(room=room, room_revision__gt=since)
        .exclude(verb=ActivityEvent.Verb.CONFLICT)
        .order_by("room_revision", "id")
        .values_list(
            "target_type",
            "target_id",
            "verb",
            "actor_user_id",
            "actor_ref",
            "actor_label",
            "actor_window",
            "changes",
        )[: MAX_EVENTS + 1]
    )
    changes = Changes()
    if len(events) > MAX_EVENTS:
        changes.reload = True
        return changes
    for kind, target_id, verb, actor_user, actor_ref, who, actor_window, entry_changes in events:
        if window and actor_window == window:
            changes.summary |= kind in {"task", "milestone", "plan", "room"}
            continue
        if (user_id is not None and str(actor_user) == str(user_id)) or (
            stakeholder_id is not None and actor_ref == str(stakeholder_id)
        ):
            who = YOU_ELSEWHERE
        for target, _ in ActivityEvent.targets_of(verb, target_id, entry_changes):
            _note(changes, kind, target, verb, who)
    return changes


def _note(changes, kind, target, verb, who):
    """What one changed target means for a viewer's page."""
    structural = verb in {"created", "deleted", "moved"}
    if kind == "plan" and verb == "applied_template":
        changes.reload = True
    elif kind == "plan":
        changes.sections.update(plan=who, overview=who)
        if verb == "replanned":  # the close date moved with the open work
            changes.sections["header"] = who
    elif kind == "task" and not structural:
        changes.tasks[target] = who
        changes.sections["overview"] = who
    elif kind == "milestone" and not structural:
        changes.milestones[target] = who
        changes.sections["overview"] = who
    elif kind in {"task", "milestone"}:
        changes.sections.update(plan=who, overview=who)
    elif kind == "stakeholder":
        changes.sections.update(stakeholders=who, plan=who, risks=who, overview=who)
    elif kind == "decisioncriterion":
        changes.sections["criteria"] = who
    elif kind == "risk":
        changes.sections["risks"] = who
    elif kind == "room":
        changes.sections.update(header=who, overview=who)


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
        revision = _seller_revision(room_id, user_id)
        if revision is None:
            return HttpResponse(status=404)
        cache.add(keys[0], revision, REVISION_HINT_TTL)
        cache.add(keys[1], True, MEMBER_HINT_TTL)

    def render(since):
        # Something to show: the full checks, as for any page (session and membership).
        if str(request.session.get("_auth_user_id")) != user_id:
            return None
        try:
            room = Room.objects.select_related("owner").get(
                pk=room_id, org__memberships__user_id=user_id
            )
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


def _fragment_context(context, request):
    """What a fragment is rendered with: the page's context, the request, and the CSRF
    token, so a plain form redrawn by a live update still posts (the context
    processors do not run for a fragment)."""
    return context | {"request": request, "csrf_token": get_token(request)}


def _seller_fragments(context, changes):
    page = "plans/room.html"
    out, by = [], {}
    sections = changes.sections
    if context["plan"] is None and (changes.tasks or changes.milestones or "plan" in sections):
        return [], {}, True
    if "plan" in sections:
        out.append(render_to_string(f"{page}#plan", context))
        by["plan"] = sections["plan"]
        out.append(render_to_string(f"{page}#plan-status", context))
    else:
        tasks = {t.pk: t for m in context["milestones"] for t in m.task_list}
        for task_id, who in changes.tasks.items():
            task = tasks.get(uuid_or_none(task_id))
            if task is not None:
                out.append(render_to_string(f"{page}#task-row", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        milestones = {m.pk: m for m in context["milestones"]}
        for milestone_id, who in changes.milestones.items():
            milestone = milestones.get(uuid_or_none(milestone_id))
            if milestone is not None:
                out.append(
                    render_to_string(f"{page}#milestone-head", context | {"milestone": milestone})
                )
                by[f"milestone-{milestone.pk}"] = who
        if context["plan"] is not None and (
            changes.tasks or changes.milestones or changes.summary or "header" in sections
        ):
            # The counts and the projected close, the plan's problems, and each row's
            # schedule marks: one changed date can move the critical path anywhere.
            for part in ("plan-status", "plan-problems", "schedule-marks"):
                out.append(render_to_string(f"{page}#{part}", context))
            out.append(render_to_string("plans/_timeline.html", context))
    if "stakeholders" in sections:
        out.append(render_to_string("stakeholders/_section.html#section", context))
        by["stakeholders"] = sections["stakeholders"]
    for name in ("criteria", "risks"):
        if name in sections and context["plan"] is not None:
            out.append(render_to_string(f"{page}#{name}", context))
            by[name] = sections[name]
    if "header" in sections:
        out.append(render_to_string("rooms/_header.html", context))
        by["room-header"] = sections["header"]
    out.append(render_to_string(f"{page}#recent", context))
    return out, by, False


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


def _buyer_fragments(context, changes):
    page = "buyer/room.html"
    out, by = [], {}
    sections = changes.sections
    if "plan" in sections:
        out.append(render_to_string(f"{page}#plan", context))
        by["plan"] = sections["plan"]
    else:
        tasks = {t.pk: t for m in context["milestones"] for t in m.task_list}
        for task_id, who in changes.tasks.items():
            task = tasks.get(uuid_or_none(task_id))
            if task is not None:  # tasks outside the buyer's scope stay out
                out.append(render_to_string(f"{page}#task", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        if changes.milestones:
            out.append(render_to_string(f"{page}#plan", context))
            by["plan"] = next(iter(changes.milestones.values()))
    if sections.keys() & {"overview", "header", "plan"} or changes.tasks or changes.summary:
        out.append(render_to_string(f"{page}#overview", context))
        out.append(render_to_string(f"{page}#agree", context))
    if "stakeholders" in sections:
        out.append(render_to_string(f"{page}#contacts", context))
    for name in ("criteria", "risks"):
        if name in sections:
            out.append(render_to_string(f"{page}#extras", context))
            break
    return out, by, False


def uuid_or_none(value):
    """A UUID from what a request carried, or None for anything that is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
