"""Closing the deal won or lost (and reopening it), and handing a won room over to Customer
Success."""

from django.contrib import messages
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from accounts.membership import member_required
from rooms.actors import seller_actor
from rooms.models import Outcome
from rooms.selectors import room_for_member
from rooms.services import OutcomeError, room_close, room_reopen

from .. import services
from .base import _int_or_none, _room_url

# --- outcome: won, lost, reopen, hand-off ------------------------------------------------


@require_POST
@member_required
def outcome_save(request, room_id):
    """Mark the deal won or lost (a reason is required for lost), or reopen it."""
    room = room_for_member(request.membership, room_id)
    action = request.POST.get("action", "")
    try:
        if action == "reopen":
            room_reopen(actor=seller_actor(request), membership=request.membership, room_id=room.pk)
            messages.success(request, "The deal is open again; its history is kept.")
        elif action in (Outcome.WON, Outcome.LOST):
            room_close(
                actor=seller_actor(request),
                membership=request.membership,
                room_id=room.pk,
                outcome=action,
                reason=request.POST.get("reason", ""),
            )
            if action == Outcome.WON:
                messages.success(request, "Marked won. Hand it over to Customer Success below.")
            else:
                messages.success(request, "Marked lost. The room is now read-only.")
        else:
            messages.error(request, "Choose won, lost or reopen.")
    except OutcomeError as exc:
        messages.error(request, str(exc))
    return redirect(_room_url(room) + "#outcome")


@require_POST
@member_required
def handover(request, room_id):
    room = room_for_member(request.membership, room_id)
    try:
        services.room_handover(
            actor=seller_actor(request),
            membership=request.membership,
            room_id=room.pk,
            cs_owner_id=_int_or_none(request.POST.get("cs_owner")),
        )
    except OutcomeError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(
            request, "Handed over: the onboarding plan is appended below, dated from signature."
        )
    return redirect(_room_url(room) + "#outcome")
