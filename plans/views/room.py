"""The room page (each seller sees the body kept for the room's revision,
rooms/render_cache.py), starting its plan, and what leaves the room as files: the PDF
and the weekly review's calendar entry."""

from django.conf import settings
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_GET, require_POST

from accounts.membership import member_required
from accounts.models import Membership
from rooms.actors import seller_actor
from rooms.render_cache import room_render
from rooms.selectors import room_for_member
from stakeholders import calendar
from stakeholders.models import Stakeholder

from .. import services
from ..health import room_signals
from ..live.presence import SESSION_LABEL
from ..live.tickets import seller_ticket
from ..selectors import (
    replan_offer,
    room_plan,
)
from ..templates_builtin import BUILTIN_TEMPLATES
from .base import PAGE, PARTS, _date_or_none, _room_url, download


@require_GET
@member_required
def room_page(request, room_id):
    room = room_for_member(request.membership, room_id, with_plan=True)
    # Live polls name the viewer without loading the user (see plans/live/).
    if request.session.get(SESSION_LABEL) != request.user.display_name:
        request.session[SESSION_LABEL] = request.user.display_name
    replan_from = _date_or_none(request.GET.get("replan_from"))
    part = request.GET.get("part")
    if request.htmx and part in PARTS:
        # The same template, one section of it: redrawn when other sections change it
        # (a new person is a new owner to choose).
        return render(request, f"{PAGE}#{part}", _room_context(room))

    def render_body(holes):
        context = _room_context(room, replan_from=replan_from) | holes
        return render_to_string(f"{PAGE}#body", context, request)

    # Every seller of the organisation sees the same body at a revision; a re-plan
    # offer belongs to the request that moved the date.
    body = room_render(
        request,
        room=room,
        audience="seller",
        render=render_body,
        shared=replan_from is None,
        per_request={"template_action": _template_action(request, room)},
    )
    context = {"room": room, "body": body, "live_ticket": seller_ticket(request.user.pk, room.pk)}
    return render(request, PAGE, context)


def _template_action(request, room):
    """The "save this plan as a template" link, for the organisation's admins and
    managers (the body is the same for every seller: this goes in per request)."""
    if not services.playbook_can_edit(request.membership) or getattr(room, "plan", None) is None:
        return ""
    # Still safe once stripped (str.strip() alone would turn it back into text to escape).
    return mark_safe(render_to_string("plans/playbooks/_save_action.html", {"room": room}).strip())


def _room_context(room, *, replan_from=None):
    context = room_plan(room)
    tasks = [task for milestone in context["milestones"] for task in milestone.task_list]
    return context | {
        "templates": BUILTIN_TEMPLATES.values(),
        "org_members": Membership.objects.filter(org_id=room.org_id)
        .select_related("user")
        .order_by("user__name", "user__email"),
        "signals": room_signals(room, tasks=tasks),  # the room and tasks just read
        # A plain post of the header that moved the close date comes back here with the
        # date it had (see replan): the header offers to move the open work too.
        "replan": replan_offer(room, replan_from),
    }


@require_POST
@member_required
def plan_start(request, room_id):
    room = room_for_member(request.membership, room_id)
    try:
        plan = services.plan_start(
            actor=seller_actor(request),
            room=room,
            template_slug=request.POST.get("template", ""),
            playbook=request.POST.get("playbook") or None,
        )
    except services.PlanError as exc:
        messages.error(request, str(exc))
    else:
        if plan.layout and plan.layout.message:
            messages.warning(request, plan.layout.message)
    return redirect(_room_url(room))


@require_GET
@member_required
def room_pdf(request, room_id):
    from ..pdf import pdf_filename, render_pdf, seller_pdf_context  # loads the renderer

    room = room_for_member(request.membership, room_id)
    context = seller_pdf_context(room_plan(room), room=room)
    return download(
        render_pdf(context), content_type="application/pdf", filename=pdf_filename(room)
    )


@require_GET
@member_required
def review_ics(request, room_id):
    room = room_for_member(request.membership, room_id)
    people = list(Stakeholder.objects.for_room(room))
    body = calendar.review_ics(room, people, url=settings.SITE_URL + _room_url(room))
    if body is None:
        raise Http404("This room has no weekly review slot yet.")
    return download(
        body, content_type=calendar.ICS_CONTENT_TYPE, filename=calendar.review_filename(room)
    )
