"""The weekly check-in pages: the seller's (run the call, mark lines, finish) and the
buyer's (the same review, in their scope, through their link)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.membership import member_required
from plans.live.fragments import uuid_or_none
from plans.live.tickets import buyer_ticket, seller_ticket
from plans.models import Task
from rooms.actors import seller_actor
from rooms.revision import RoomReadOnly
from rooms.selectors import room_for_member
from rooms.versioning import StaleWrite
from stakeholders.buyer_views import buyer_required
from stakeholders.models import Side, Stakeholder

from . import services
from .selectors import MARKS, review_for, visible_lines

INT_RANGE = range(0, 2**63)


def _int_or_none(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in INT_RANGE else None


def _page_url(room, since):
    url = reverse("checkins:page", args=[room.pk])
    return f"{url}?since={since}" if since is not None else url


def _errors(exc):
    if hasattr(exc, "message_dict"):
        return [m for messages_ in exc.message_dict.values() for m in messages_]
    return list(exc.messages)


def _seller_context(room, *, since, form=None, errors=None):
    people = list(Stakeholder.objects.for_room(room).order_by("-side", "name"))
    review = review_for(room)
    for checkin in review.history:
        checkin.shown_lines = checkin.lines
    return {
        "room": room,
        "review": review,
        "since": since,
        "marks": MARKS.items(),
        "buyers": [p for p in people if p.side == Side.BUYER],
        "sellers": [p for p in people if p.side == Side.SELLER],
        "form": form or {},
        "errors": errors or [],
        "history": review.history,
    }


def _with_ticket(context, ticket):
    """The page follows the room live (static/js/checkin-live.js) with this ticket."""
    return context | {"live_ticket": ticket}


@require_GET
@member_required
def page(request, room_id):
    room = room_for_member(request.membership, room_id)
    # The room's revision when the call began: what changes after it is the check-in's.
    since = _int_or_none(request.GET.get("since"))
    if since is None or since > room.revision:
        since = room.revision
    context = _with_ticket(
        _seller_context(room, since=since), seller_ticket(request.user.pk, room.pk)
    )
    return render(request, "checkins/check_in.html", context)


@require_POST
@member_required
def mark(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    since = _int_or_none(request.POST.get("since"))
    if not Task.objects.for_room(room).filter(pk=pk).exists():
        raise Http404("No such task.")
    try:
        task = services.checkin_line_mark(
            actor=seller_actor(request),
            room=room,
            task_id=pk,
            base_version=_int_or_none(request.POST.get("version")) or 0,
            mark=request.POST.get("mark", ""),
            note=request.POST.get("note", ""),
        )
    except ValidationError as exc:
        for error in _errors(exc):
            messages.error(request, error)
    except StaleWrite as refused:
        clash = refused.clashes.get("status") or {}
        messages.error(
            request,
            f"{clash.get('by', 'Someone')} changed this task's status to "
            f"“{clash.get('theirs', '')}” meanwhile: nothing was saved. Mark it again.",
        )
    except RoomReadOnly as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Saved “{task.title}”.")
    return redirect(f"{_page_url(room, since)}#line-{pk}")


@require_POST
@member_required
def finish(request, room_id):
    room = room_for_member(request.membership, room_id)
    since = _int_or_none(request.POST.get("since"))
    form = {
        "attendees": request.POST.getlist("attendees"),
        "notes": request.POST.get("notes", ""),
        "decisions": request.POST.get("decisions", ""),
    }
    try:
        services.checkin_finish(
            actor=seller_actor(request),
            room=room,
            attendee_ids=[a for a in form["attendees"] if uuid_or_none(a) is not None],
            notes=form["notes"],
            decisions=form["decisions"],
            since_revision=since,
        )
    except (ValidationError, RoomReadOnly) as exc:
        errors = [str(exc)] if isinstance(exc, RoomReadOnly) else _errors(exc)
        context = _with_ticket(
            _seller_context(room, since=since, form=form, errors=errors),
            seller_ticket(request.user.pk, room.pk),
        )
        return render(request, "checkins/check_in.html", context, status=422)
    messages.success(request, "Check-in recorded; the recap is on its way to both sides.")
    return redirect(f"{reverse('checkins:page', args=[room.pk])}#history")


@require_GET
@buyer_required
def buyer_page(request):
    access = request.buyer
    room, me = access.room, access.stakeholder
    review = review_for(room, stakeholder=me)
    seen = Task.objects.for_room(room).visible_to(me).values_list("pk", flat=True)
    seen = list(seen)
    history = review.history
    for checkin in history:
        checkin.shown_lines = visible_lines(checkin.lines, seen)
    return render(
        request,
        "checkins/buyer_check_in.html",
        _with_ticket(
            {"room": room, "me": me, "review": review, "history": history},
            buyer_ticket(access.link.pk, room.pk),
        ),
    )
