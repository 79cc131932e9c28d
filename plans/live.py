"""Live updates for everyone in a room (sellers and buyers).

A viewer polls about once a second with the room revision its page shows. Nothing
changed: 204, after one SQL query (which also re-checks access). Something changed:
200 with fresh HTML of just the rows and sections that changed since that revision
(read from the activity log), the new revision in ``X-Room-Revision`` and who made
each change in ``X-Live-Changed-By``. static/js/live.js swaps them in, except where
the viewer is typing. A missed poll heals itself: the next one asks from the revision
the page has. Who is here is kept in the shared cache, never in process memory.
"""

import hashlib
import json
import time
import uuid

from django.core.cache import cache
from django.http import HttpResponse, HttpResponseBadRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.views.decorators.http import require_GET

from rooms.models import ActivityEvent, Room
from stakeholders.access import SESSION_KEY as BUYER_SESSION_KEY
from stakeholders.access import BuyerAccess
from stakeholders.buyer_views import protect
from stakeholders.models import AccessLink

from .selectors import buyer_room, room_plan

PRESENCE_TTL = 6  # seconds without a poll before a viewer leaves "who's here"
MAX_EVENTS = 300  # more changes than this since a page's revision: reload instead
SESSION_LABEL = "live_label"


# --- presence -----------------------------------------------------------------------


def presence_touch(room_id, viewer, label, side):
    """Mark ``viewer`` present; return everyone present, sorted, and a short hash."""
    key = f"presence:{room_id}"
    now = time.time()
    here = {k: v for k, v in (cache.get(key) or {}).items() if now - v["ts"] < PRESENCE_TTL}
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
    """Targets changed after a revision, by someone other than the viewer."""

    def __init__(self):
        self.tasks = {}  # task id -> who
        self.milestones = {}
        self.sections = {}  # section name -> who
        self.reload = False

    def __bool__(self):
        return bool(self.tasks or self.milestones or self.sections or self.reload)


def changes_since(room, since, *, user_id=None, stakeholder_id=None):
    events = list(
        ActivityEvent.objects.filter(room=room, room_revision__gt=since)
        .exclude(verb=ActivityEvent.Verb.CONFLICT)
        .order_by("room_revision", "id")
        .values_list(
            "target_type", "target_id", "verb", "actor_user_id", "actor_ref", "actor_label"
        )[: MAX_EVENTS + 1]
    )
    changes = Changes()
    if len(events) > MAX_EVENTS:
        changes.reload = True
        return changes
    for kind, target, verb, actor_user, actor_ref, who in events:
        if (user_id is not None and actor_user is not None and str(actor_user) == str(user_id)) or (
            stakeholder_id is not None and actor_ref == str(stakeholder_id)
        ):
            continue  # the viewer's own change: their page already shows it
        structural = verb in {"created", "deleted", "moved"}
        if kind == "plan" and verb == "applied_template":
            changes.reload = True
        elif kind == "plan":
            changes.sections.update(plan=who, overview=who)
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
    return changes


def _since(request):
    try:
        return int(request.GET.get("rev", ""))
    except ValueError:
        return None


def _answer(request, *, room_id, revision, since, viewer, label, side, render):
    people, digest = presence_touch(room_id, viewer, label, side)
    presence_changed = request.GET.get("here") != digest
    if revision == since and not presence_changed:
        return HttpResponse(status=204)
    fragments, changed_by, reload = [], {}, False
    if revision != since:
        fragments, changed_by, reload = render(since)
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
    user_id = request.session.get("_auth_user_id")
    since = _since(request)
    if user_id is None:
        return HttpResponse(status=403)
    if since is None:
        return HttpResponseBadRequest("rev must be a number")
    # One query: the revision, and at the same time proof the user may see the room.
    revision = (
        Room.objects.filter(pk=room_id, org__memberships__user_id=user_id)
        .values_list("revision", flat=True)
        .first()
    )
    if revision is None:
        return HttpResponse(status=404)

    def render(since):
        room = Room.objects.select_related("owner").get(pk=room_id)
        changes = changes_since(room, since, user_id=user_id)
        if changes.reload:
            return [], {}, True
        context = room_plan(room) | {"request": request}
        return _seller_fragments(context, changes)

    return _answer(
        request,
        room_id=room_id,
        revision=revision,
        since=since,
        viewer=f"u{user_id}",
        label=request.session.get(SESSION_LABEL, "A teammate"),
        side="seller",
        render=render,
    )


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
            task = tasks.get(_uuid(task_id))
            if task is not None:
                out.append(render_to_string(f"{page}#task-row", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        milestones = {m.pk: m for m in context["milestones"]}
        for milestone_id, who in changes.milestones.items():
            milestone = milestones.get(_uuid(milestone_id))
            if milestone is not None:
                out.append(
                    render_to_string(f"{page}#milestone-head", context | {"milestone": milestone})
                )
                by[f"milestone-{milestone.pk}"] = who
        if changes.tasks:
            out.append(render_to_string(f"{page}#plan-status", context))
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
    link_id = request.session.get(BUYER_SESSION_KEY)
    since = _since(request)
    if link_id is None:
        return protect(HttpResponse(status=404))
    if since is None:
        return protect(HttpResponseBadRequest("rev must be a number"))
    # One query: the link is still active, and the revision of its room.
    row = (
        AccessLink.objects.filter(
            pk=link_id, revoked_at__isnull=True, expires_at__gt=timezone.now()
        )
        .values_list("room_id", "room__revision", "stakeholder_id", "stakeholder__name")
        .first()
    )
    if row is None:
        response = HttpResponse(status=410)
        response["HX-Refresh"] = "true"
        return protect(response)
    room_id, revision, stakeholder_id, name = row

    def render(since):
        link = AccessLink.objects.select_related(
            "stakeholder", "room", "room__owner", "room__org"
        ).get(pk=link_id)
        access = BuyerAccess(link)
        changes = changes_since(link.room, since, stakeholder_id=stakeholder_id)
        if changes.reload:
            return [], {}, True
        context = buyer_room(access) | {"request": request}
        return _buyer_fragments(context, changes)

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
            task = tasks.get(_uuid(task_id))
            if task is not None:  # tasks outside the buyer's scope stay out
                out.append(render_to_string(f"{page}#task", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        if changes.milestones:
            out.append(render_to_string(f"{page}#plan", context))
            by["plan"] = next(iter(changes.milestones.values()))
    if sections.keys() & {"overview", "header", "plan"} or changes.tasks:
        out.append(render_to_string(f"{page}#overview", context))
    if "stakeholders" in sections:
        out.append(render_to_string(f"{page}#contacts", context))
    for name in ("criteria", "risks"):
        if name in sections:
            out.append(render_to_string(f"{page}#extras", context))
            break
    return out, by, False


def _uuid(value):
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
