"""The buyer's room: what a buyer stakeholder sees and does through their link."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST
from django_htmx.http import reswap, retarget

from rooms.inline import form_errors, inline_save, respond
from rooms.render_cache import room_render
from stakeholders import calendar
from stakeholders.buyer_views import buyer_required
from stakeholders.links import view_record
from stakeholders.models import Stakeholder, ViewEvent

from . import services
from .forms import BuyerMilestoneAddForm, BuyerTaskAddForm, BuyerTaskForm
from .live.fragments import uuid_or_none
from .live.tickets import buyer_ticket
from .models import Milestone, Plan, Task, TaskStatus
from .selectors import annotate_task, buyer_room
from .views import download
from .views.base import comment_post

PAGE = "buyer/room.html"


def _visible_task(request, pk):
    access = request.buyer
    try:
        return (
            Task.objects.for_room(access.room)
            .visible_to(access.stakeholder)
            .select_related("owner")
            .get(pk=pk)
        )
    except Task.DoesNotExist:
        raise Http404("No such task.") from None


def _section(request, *, status=200, **extra):
    if not request.htmx:
        for error in extra.get("errors", []):
            messages.error(request, error)
        if extra.get("added"):
            messages.success(request, f"Added “{extra['added']}”.")
        return redirect("buyer:room")
    return render(request, f"{PAGE}#plan", buyer_room(request.buyer) | extra, status=status)


@require_GET
@buyer_required
def room(request):
    access = request.buyer
    editing = uuid_or_none(request.GET.get("edit"))  # a task's fields open (no JS)

    def render_page(holes):
        context = buyer_room(access) | {"editing": editing} | holes
        return render_to_string(PAGE, context, request)

    # A buyer's scope is their track and their own tasks: their page is their own, kept
    # for their next view until the room changes, and never served once their scope or
    # track is not what it was rendered for. One opened for editing, or carrying a
    # message, is rendered for this request alone.
    me = access.stakeholder
    page = room_render(
        request,
        room=access.room,
        audience=f"buyer:{me.pk}:{me.scope}:{me.track}",
        render=render_page,
        shared=editing is None and not len(messages.get_messages(request)),
        per_request={"live_ticket": buyer_ticket(access.link.pk, access.room.pk)},
    )
    view_record(access, kind=ViewEvent.Kind.ROOM, label="the room", request=request)
    return HttpResponse(page)


@require_GET
@buyer_required
def task_edit(request, pk):
    """The note and status fields of one task, opened from "Add a note" (without
    JavaScript: the room with that task's fields open)."""
    task = _visible_task(request, pk)
    if not task.buyer_editable:
        raise Http404("You cannot edit this task.")
    if not request.htmx:
        return redirect(f"{reverse('buyer:room')}?edit={task.pk}#task-{task.pk}")
    return render(
        request, f"{PAGE}#task-fields", {"task": task, "status_choices": TaskStatus.choices}
    )


@require_POST
@buyer_required
def task_save(request, pk):
    task = _visible_task(request, pk)
    room_ = request.buyer.room
    marked = request.POST.get("mark") == "done"
    if marked:
        # "Mark done" saves the status alone, whatever the row's other inputs hold.
        data = request.POST.copy()
        data.setlist("status", [TaskStatus.DONE])
        data["_field"] = "status"
        data["_row"] = "1"  # answered with the whole task, redrawn as done
        request.POST = data
    result = inline_save(
        request,
        instance=task,
        form_class=BuyerTaskForm,
        form_kwargs={"room": room_},
        save=lambda *, changes, base_version: services.buyer_task_update(
            access=request.buyer, task_id=pk, base_version=base_version, changes=changes
        ),
    )

    def render_meta(instance, *, errors, status):
        annotate_task(instance, room=room_, today=room_.today())
        return render(
            request,
            f"{PAGE}#task-meta",
            {"task": instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        context = buyer_room(request.buyer)
        current = next(t for m in context["milestones"] for t in m.task_list if t.pk == instance.pk)
        return render(
            request,
            f"{PAGE}#task",
            context
            | {"task": current, "conflict": conflict, "saved": status == 200, "marked": marked},
            status=status,
        )

    response = respond(
        request,
        result,
        render_meta=render_meta,
        render_row=render_row,
        row_id=f"task-{pk}",
        fallback_url=reverse("buyer:room"),
    )
    if marked and request.htmx and result.status == 200:
        response = reswap(retarget(response, f"#task-{pk}"), "outerHTML")
    return response


@require_POST
@buyer_required
def task_add(request, pk):
    access = request.buyer
    if not Milestone.objects.for_room(access.room).filter(pk=pk).exists():
        raise Http404("No such milestone.")
    form = BuyerTaskAddForm(request.POST, room=access.room)
    if not form.is_valid():
        return _section(
            request, status=422, task_add_milestone=pk, task_add_form=form, errors=form_errors(form)
        )
    try:
        task = services.buyer_task_create(access=access, milestone_id=pk, **form.cleaned_data)
    except ValidationError as exc:
        return _section(
            request, status=422, task_add_milestone=pk, task_add_form=form, errors=exc.messages
        )
    # The box stays open with focus in it, for the next task; the page says what was added.
    return _section(request, task_added_to=pk, added=task.title)


@require_POST
@buyer_required
def milestone_add(request):
    form = BuyerMilestoneAddForm(request.POST, room=request.buyer.room)
    if not form.is_valid():
        return _section(request, status=422, milestone_add_form=form, errors=form_errors(form))
    try:
        milestone = services.buyer_milestone_create(access=request.buyer, **form.cleaned_data)
    except ValidationError as exc:
        return _section(request, status=422, milestone_add_form=form, errors=exc.messages)
    return _section(request, milestone_added=True, added=milestone.title)


@require_POST
@buyer_required
def comment_add(request, pk):
    task = _visible_task(request, pk)
    access = request.buyer

    def current():
        context = buyer_room(access)
        return next(t for m in context["milestones"] for t in m.task_list if t.pk == task.pk)

    return comment_post(
        request,
        actor=access.actor,
        room=access.room,
        task=task,
        back_url=reverse("buyer:room") + f"#task-{task.pk}",
        current=current,
    )


@require_POST
@buyer_required
def task_viewed(request, pk):
    task = _visible_task(request, pk)
    view_record(request.buyer, kind=ViewEvent.Kind.TASK, label=task.title, request=request)
    return HttpResponse(status=204)


@require_POST
@buyer_required
def agree(request):
    try:
        services.plan_agree(access=request.buyer)
        messages.success(request, "Thank you: your agreement is recorded with your name.")
    except Plan.DoesNotExist:
        messages.error(request, "There is no plan to agree to yet.")
    return redirect("buyer:room")


@require_GET
@buyer_required
def pdf(request):
    from .pdf import buyer_pdf_context, pdf_filename, render_pdf  # loads the renderer

    context = buyer_pdf_context(buyer_room(request.buyer))
    return download(
        render_pdf(context),
        content_type="application/pdf",
        filename=pdf_filename(request.buyer.room),
    )


@require_GET
@buyer_required
def review_ics(request):
    room = request.buyer.room
    body = calendar.review_ics(
        room,
        list(Stakeholder.objects.for_room(room).seen_by(request.buyer.stakeholder)),
        url=settings.SITE_URL + reverse("buyer:room"),
    )
    if body is None:
        raise Http404("No weekly review is scheduled yet.")
    return download(
        body, content_type=calendar.ICS_CONTENT_TYPE, filename=calendar.review_filename(room)
    )


@require_POST
@buyer_required
def feed_issue(request):
    """The buyer's own calendar feed: a new address (any earlier one stops working),
    shown once on this page."""
    access = request.buyer
    _, token = calendar.feed_issue(
        actor=access.actor,
        room=access.room,
        stakeholder=access.stakeholder,
    )
    return render(
        request,
        "buyer/calendar_feed.html",
        {"room": access.room, "me": access.stakeholder, "feed_url": calendar.feed_url(token)},
    )
