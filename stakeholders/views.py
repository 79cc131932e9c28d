"""The stakeholder map of a room: rows edited in place like the plan."""

from django.contrib import messages
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST
from django_htmx.http import trigger_client_event

from accounts.access import member_required
from rooms.inline import inline_save, respond
from rooms.selectors import room_for_member
from rooms.services import Actor

from . import services
from .forms import StakeholderAddForm, StakeholderForm
from .models import TEMPLATE_CHOICES, Stakeholder

SECTION = "stakeholders/_section.html"


def _context(room, **extra):
    return {
        **TEMPLATE_CHOICES,
        "room": room,
        "stakeholders": list(Stakeholder.objects.for_room(room)),
        **extra,
    }


def _section(request, room, *, status=200, **extra):
    if not request.htmx:
        for error in extra.get("errors", []):
            messages.error(request, error)
        return redirect(reverse("plans:room", args=[room.pk]) + "#stakeholders")
    response = render(request, f"{SECTION}#section", _context(room, **extra), status=status)
    if status == 200:
        # The plan's owner pickers list these people: tell the page to redraw them.
        trigger_client_event(response, "people-changed")
    return response


@require_POST
@member_required
def stakeholder_add(request, room_id):
    room = room_for_member(request.membership, room_id)
    form = StakeholderAddForm(request.POST, room=room)
    if not form.is_valid():
        errors = [f"{form.fields[n].label}: {e}" for n, es in form.errors.items() for e in es]
        return _section(request, room, status=422, add_form=form, errors=errors)
    services.stakeholder_create(actor=Actor(user=request.user), room=room, **form.cleaned_data)
    return _section(request, room)


@require_POST
@member_required
def stakeholder_save(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    person = get_object_or_404(Stakeholder.objects.for_room(room), pk=pk)
    result = inline_save(
        request,
        instance=person,
        form_class=StakeholderForm,
        form_kwargs={"room": room},
        save=lambda *, changes, base_version: services.stakeholder_update(
            actor=Actor(user=request.user),
            room=room,
            stakeholder_id=pk,
            base_version=base_version,
            changes=changes,
        ),
    )

    def render_meta(instance, *, errors, status):
        return render(
            request,
            f"{SECTION}#meta",
            {"row": instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        return render(
            request,
            f"{SECTION}#row",
            _context(room, row=instance, conflict=conflict),
            status=status,
        )

    if result.status == 200 and request.htmx and request.POST.get("_row"):
        response = render_row(result.instance, conflict=None, status=200)
    else:
        response = respond(
            request,
            result,
            render_meta=render_meta,
            render_row=render_row,
            row_id=f"stakeholder-{pk}",
            fallback_url=reverse("plans:room", args=[room.pk]),
        )
    changed = {request.POST.get("_field")} if request.POST.get("_field") else set(request.POST)
    if result.status == 200 and request.htmx and changed & {"name", "side"}:
        trigger_client_event(response, "people-changed")
    return response


@require_POST
@member_required
def stakeholder_delete(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    get_object_or_404(Stakeholder.objects.for_room(room), pk=pk)
    services.stakeholder_delete(actor=Actor(user=request.user), room=room, stakeholder_id=pk)
    return _section(request, room)
