from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.membership import member_required

from .activity_days import activity_days
from .activity_words import KINDS
from .actors import seller_actor
from .forms import RoomForm
from .inline import inline_save, respond
from .models import Outcome, Room, Stage, Weekday
from .selectors import activity_for, activity_people, room_for_member
from .services import room_create, room_update


@require_GET
@member_required
def room_list(request):
    rooms = Room.objects.for_membership(request.membership).select_related("owner")
    show = request.GET.get("show", "open")
    if show == "mine":
        rooms = rooms.filter(owner=request.user)
    elif show != "all":
        show = "open"
        rooms = rooms.filter(outcome=Outcome.OPEN)
    page = Paginator(rooms, 50).get_page(request.GET.get("page"))
    return render(request, "rooms/list.html", {"page": page, "show": show})


@require_http_methods(["GET", "POST"])
@member_required
def room_new(request):
    form = RoomForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            room = room_create(
                membership=request.membership, actor=seller_actor(request), **form.cleaned_data
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Room “{room.name}” created. Now start its plan.")
            return redirect("plans:room", room_id=room.pk)
    return render(request, "rooms/new.html", {"form": form}, status=422 if form.errors else 200)


@require_POST
@member_required
def room_save(request, room_id):
    room = room_for_member(request.membership, room_id)
    result = inline_save(
        request,
        instance=room,
        form_class=RoomForm,
        form_kwargs={},
        save=lambda *, changes, base_version: room_update(
            actor=seller_actor(request),
            membership=request.membership,
            room_id=room.pk,
            base_version=base_version,
            changes=changes,
        ),
    )

    # A new close date: the header asks whether the plan's open work moves with it
    # (plans:replan decides whether there is any, and moves it).
    saved = result.instance if result.status == 200 else None
    replan_from = None
    if saved is not None and saved.has_plan and saved.target_close_date != room.target_close_date:
        replan_from = room.target_close_date
    fallback_url = reverse("plans:room", args=[room.pk])
    if replan_from is not None:
        fallback_url += f"?replan_from={replan_from.isoformat()}"

    def render_meta(instance, *, errors, status):
        response = render(
            request,
            "rooms/_meta.html",
            {"room": instance, "errors": errors, "saved": status == 200},
            status=status,
        )
        if replan_from is not None:
            response.write(
                render_to_string(
                    "rooms/_header.html#replan-prompt",
                    {"room": instance, "replan_from": replan_from, "prompt_oob": True},
                    request,
                )
            )
        return response

    def render_row(instance, *, conflict, status):
        # Like a plan row: the header as it is now, the card offering both values.
        return render(
            request,
            "rooms/_header.html",
            {
                "room": instance,
                "room_stage_choices": Stage.choices,
                "room_weekday_choices": Weekday.choices,
                "conflict": conflict,
                "replan_from": replan_from,
            },
            status=status,
        )

    return respond(
        request,
        result,
        render_meta=render_meta,
        render_row=render_row,
        row_id="room-header",
        fallback_url=fallback_url,
    )


@require_GET
@member_required
def room_activity(request, room_id):
    room = room_for_member(request.membership, room_id)
    who = request.GET.get("who", "")[:80]
    kind = request.GET.get("kind", "")[:40]
    events = activity_for(room, who=who, kind=kind)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    query = urlencode({k: v for k, v in (("who", who), ("kind", kind)) if v})
    return render(
        request,
        "rooms/activity.html",
        {
            "room": room,
            "page": page,
            "days": activity_days(
                page.object_list, tz=room.tzinfo, now=timezone.now(), room_name=room.name
            ),
            "people": activity_people(room),
            "kinds": [(key, label) for key, (label, _) in KINDS.items()],
            "who": who,
            "kind": kind,
            "query": query,
        },
    )
