"""The stakeholder map of a room: rows edited in place like the plan, and each buyer's
access (personal links, what they see, what they looked at)."""

import copy

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import trigger_client_event

from accounts.membership import member_required
from rooms.actors import seller_actor
from rooms.inline import form_errors, inline_save, respond
from rooms.selectors import room_for_member
from rooms.versioning import StaleWrite

from . import calendar, links, services
from .forms import LinkIssueForm, ScopeForm, StakeholderAddForm, StakeholderForm
from .links import engagement_for
from .models import TEMPLATE_CHOICES, AccessLink, CalendarFeed, Stakeholder, ViewEvent
from .selectors import people_of

SECTION = "stakeholders/_section.html"


def _context(room, **extra):
    return {
        **TEMPLATE_CHOICES,
        "room": room,
        "stakeholders": people_of(room),
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
        errors = form_errors(form)
        return _section(request, room, status=422, add_form=form, errors=errors)
    try:
        services.stakeholder_create(actor=seller_actor(request), room=room, **form.cleaned_data)
    except ValidationError as exc:
        return _section(request, room, status=422, add_form=form, errors=exc.messages)
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
            actor=seller_actor(request),
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
    services.stakeholder_delete(actor=seller_actor(request), room=room, stakeholder_id=pk)
    return _section(request, room)


# --- a buyer's access: links, scope, engagement ---------------------------------------------


def _person(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    person = get_object_or_404(Stakeholder.objects.for_room(room), pk=pk)
    return room, person


def _access_page(request, room, person, *, status=200, **extra):
    links = list(AccessLink.objects.filter(stakeholder=person, org_id=room.org_id))
    feeds = list(CalendarFeed.objects.filter(stakeholder=person, org_id=room.org_id)[:10])
    views = list(ViewEvent.objects.filter(stakeholder=person, org_id=room.org_id)[:30])
    context = {
        "room": room,
        "person": person,
        "links": links,
        "feeds": feeds,
        "views": views,
        "engagement": engagement_for(room).get(person.pk),
        "default_days": settings.BUYER_LINK_TTL_DAYS,
        "issue_form": extra.pop("issue_form", None) or LinkIssueForm(),
        **TEMPLATE_CHOICES,
        **extra,
    }
    response = render(request, "stakeholders/access.html", context, status=status)
    # A freshly issued link is on this page: keep it out of caches and referrers.
    response["Cache-Control"] = "no-store"
    response["Referrer-Policy"] = "no-referrer"
    return response


@require_GET
@member_required
def access(request, room_id, pk):
    room, person = _person(request, room_id, pk)
    return _access_page(request, room, person)


@require_POST
@member_required
def link_issue(request, room_id, pk):
    room, person = _person(request, room_id, pk)
    form = LinkIssueForm(request.POST)
    if not form.is_valid():
        return _access_page(request, room, person, status=422, issue_form=form)
    data = form.cleaned_data
    try:
        url = links.link_issue_and_send(
            actor=seller_actor(request),
            room=room,
            stakeholder=person,
            days=data["days"],
            revoke_others=data["revoke_others"],
            send_email=data["send_email"],
            note=data["note"],
        )
    except ValidationError as exc:
        form.add_error(None, exc)
        return _access_page(request, room, person, status=422, issue_form=form)
    emailed = data["send_email"]
    return _access_page(request, room, person, new_link_url=url, emailed=emailed)


@require_POST
@member_required
def link_revoke(request, room_id, pk, link_id):
    room, person = _person(request, room_id, pk)
    try:
        links.link_revoke(
            actor=seller_actor(request), room=room, link_id=link_id, stakeholder=person
        )
    except AccessLink.DoesNotExist:
        raise Http404("No such link.") from None
    messages.success(request, f"Link revoked: {person.name} can no longer open the room with it.")
    return redirect("stakeholders:access", room_id=room.pk, pk=person.pk)


@require_POST
@member_required
def scope_save(request, room_id, pk):
    room, person = _person(request, room_id, pk)
    form = ScopeForm(request.POST, instance=copy.copy(person))
    if not form.is_valid():
        return _access_page(request, room, person, status=422, scope_errors=form.errors)
    try:
        services.stakeholder_update(
            actor=seller_actor(request),
            room=room,
            stakeholder_id=person.pk,
            base_version=int(request.POST.get("version", person.version)),
            changes={k: form.cleaned_data[k] for k in ("scope", "track")},
        )
    except (StaleWrite, ValueError):
        messages.error(request, "Someone changed this person meanwhile; check and try again.")
    else:
        messages.success(request, f"{person.name} now sees: {form.instance.get_scope_display()}.")
    return redirect("stakeholders:access", room_id=room.pk, pk=person.pk)


@require_POST
@member_required
def feed_issue(request, room_id, pk):
    room, person = _person(request, room_id, pk)
    _, token = calendar.feed_issue(actor=seller_actor(request), room=room, stakeholder=person)
    return _access_page(request, room, person, new_feed_url=calendar.feed_url(token))


@require_POST
@member_required
def feed_revoke(request, room_id, pk, feed_id):
    room, person = _person(request, room_id, pk)
    try:
        calendar.feed_revoke(
            actor=seller_actor(request), room=room, feed_id=feed_id, stakeholder=person
        )
    except CalendarFeed.DoesNotExist:
        raise Http404("No such feed.") from None
    messages.success(request, f"Calendar feed revoked: {person.name}'s calendar stops updating.")
    return redirect(reverse("stakeholders:access", args=[room.pk, person.pk]) + "#calendar-feed")
