"""Fixes for the problems the plan's schedule finds, and re-planning when the close date
moves."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.utils.http import urlencode
from django.views.decorators.http import require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.membership import member_required
from rooms.actors import seller_actor
from rooms.revision import RoomReadOnly
from rooms.selectors import room_for_member
from rooms.versioning import StaleWrite

from .. import services
from ..models import Milestone, Task
from ..selectors import (
    replan_offer,
    room_plan,
)
from .base import PAGE, _date_or_none, _int_or_none, _room_url
from .editor import _plan_of

# --- plan problems: one-click fixes --------------------------------------------------


@require_POST
@member_required
def plan_fix(request, room_id):
    """Apply the one-click fix of one of the plan's problems (the problems panel posts
    ``code``, ``target``, the row's ``version`` and the offered ``date``). htmx gets the
    plan redrawn, the plan's status line with it; a plain post goes back to the room."""
    room = room_for_member(request.membership, room_id)
    _plan_of(room)
    error, done = "", ""
    try:
        row = services.plan_problem_fix(
            actor=seller_actor(request),
            room=room,
            code=request.POST.get("code", ""),
            target_id=request.POST.get("target", ""),
            base_version=_int_or_none(request.POST.get("version")),
            fix_date=_date_or_none(request.POST.get("date")),
        )
    except services.PlanError as exc:
        error = str(exc)
    except StaleWrite as exc:
        clash = next(iter(exc.clashes.values()))
        by = "you, in another window," if clash.get("by_you") else clash["by"]
        now = clash.get("theirs_raw")
        now = f"{now.day} {now:%b}" if now else "no date"
        error = f"Not moved: {by} changed its date meanwhile (now {now}). Check it and try again."
    except (Milestone.DoesNotExist, Task.DoesNotExist):
        error = "Not moved: that row was deleted meanwhile."
    else:
        date = row.target_date if isinstance(row, Milestone) else row.due_date
        done = f"Moved “{row.title}” to {date.day} {date:%b}."
    if not request.htmx:
        if error:
            messages.error(request, error)
            return redirect(_room_url(room) + "#plan-problems")
        messages.success(request, done)
        kind = "milestone" if isinstance(row, Milestone) else "task"
        return redirect(_room_url(room) + f"#{kind}-{row.pk}")
    context = room_plan(room) | {"problem_error": error, "problem_done": done}
    body = render_to_string(f"{PAGE}#plan", context, request) + render_to_string(
        f"{PAGE}#plan-status", context | {"oob": True}, request
    )
    return HttpResponse(body, status=409 if error else 200)


# --- re-plan: the open work moves with the close date -------------------------------


def _replan_prompt(request, room, *, status=200, **context):
    return render(
        request, "rooms/_header.html#replan-prompt", {"room": room, **context}, status=status
    )


@require_http_methods(["GET", "POST"])
@member_required
def replan(request, room_id):
    """After the room header saved a new close date, the header offers to move the plan's
    open work by as many days. GET ``?from=<the previous date>``: the offer (htmx), or
    the room page showing it. POST ``action=move`` with ``previous_close_date``,
    ``target_close_date`` and the room's ``revision`` when offered: moves it
    (plans.services.plan_replan); ``action=keep``: nothing moves. htmx gets the plan
    redrawn with the header; a plain post goes back to the room."""
    room = room_for_member(request.membership, room_id)
    if request.method == "GET":
        previous = request.GET.get("from", "")
        if not request.htmx:
            return redirect(_room_url(room) + "?" + urlencode({"replan_from": previous}))
        return _replan_prompt(request, room, replan=replan_offer(room, _date_or_none(previous)))
    if request.POST.get("action") != "move":
        if not request.htmx:
            return redirect(_room_url(room))
        return _replan_prompt(request, room, replan_note="The plan's open work keeps its dates.")
    previous = _date_or_none(request.POST.get("previous_close_date"))
    offer = replan_offer(room, previous)
    error, status = "", 200
    try:
        if previous is None:  # the offer always names it: a post made by hand
            raise ValidationError("Give the close date the work moves from (YYYY-MM-DD).")
        services.plan_replan(
            actor=seller_actor(request),
            room=room,
            target_close_date=_date_or_none(request.POST.get("target_close_date")),
            previous_close_date=previous,
            offered_at_revision=_int_or_none(request.POST.get("revision")),
        )
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 422
    except (services.PlanError, RoomReadOnly) as exc:
        error, status = str(exc), 409
    done = "" if error else "Nothing in the plan needed to move."
    if not error and offer:
        count, days = offer["count"], offer["days"]
        done = (
            f"Moved {count} open item{pluralize(count)} {days} day{pluralize(days)} "
            f"{'later' if offer['later'] else 'earlier'}, with the close date."
        )
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(_room_url(room) + ("" if error else "#plan"))
    if error:
        response = _replan_prompt(request, room, status=status, replan_error=error)
        return reswap(retarget(response, "#replan-prompt"), "outerHTML")
    context = room_plan(room) | {"request": request}
    body = (
        render_to_string(f"{PAGE}#plan", context, request)
        + render_to_string(f"{PAGE}#plan-status", context | {"oob": True}, request)
        + render_to_string(
            "rooms/_header.html", context | {"header_oob": True, "replan_note": done}, request
        )
    )
    return HttpResponse(body)
