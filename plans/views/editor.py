"""The plan editor: milestones, tasks and comments, added, saved in place, moved and
deleted through the plan's services; structural changes answer with the whole plan
section."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from accounts.membership import member_required
from rooms.actors import seller_actor
from rooms.inline import form_errors, inline_save
from rooms.selectors import room_for_member

from .. import services
from ..forms import (
    MilestoneAddForm,
    MilestoneForm,
    TaskAddForm,
    TaskForm,
)
from ..models import Milestone, Plan, Task
from ..selectors import (
    annotate_task,
    milestone_in_context,
    room_plan,
    task_in_context,
)
from .base import PAGE, _respond, _room_url


def _plan_section(request, room, *, status=200, **extra):
    """The whole plan section; structural changes (add, move, delete) answer with it."""
    if not request.htmx:
        if status >= 400:
            for error in extra.get("errors", []):
                messages.error(request, error)
        return redirect(_room_url(room))
    return render(request, f"{PAGE}#plan", room_plan(room) | extra, status=status)


def _plan_of(room):
    return get_object_or_404(Plan, room=room, org_id=room.org_id)


# --- milestones -------------------------------------------------------------------------


@require_POST
@member_required
def milestone_add(request, room_id):
    room = room_for_member(request.membership, room_id)
    plan = _plan_of(room)
    form = MilestoneAddForm(request.POST, room=room)
    if not form.is_valid():
        return _plan_section(
            request, room, status=422, milestone_add_form=form, errors=form_errors(form)
        )
    try:
        services.milestone_create(
            actor=seller_actor(request), room=room, plan=plan, **form.cleaned_data
        )
    except ValidationError as exc:
        return _plan_section(
            request, room, status=422, milestone_add_form=form, errors=exc.messages
        )
    return _plan_section(request, room)


@require_POST
@member_required
def milestone_save(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    milestone = get_object_or_404(Milestone.objects.for_room(room), pk=pk)

    def save(*, changes, base_version):
        depends_on = changes.pop("depends_on", None)
        return services.milestone_update(
            actor=seller_actor(request),
            room=room,
            milestone_id=pk,
            base_version=base_version,
            changes=changes,
            depends_on=depends_on,
        )

    result = inline_save(
        request, instance=milestone, form_class=MilestoneForm, form_kwargs={"room": room}, save=save
    )

    def render_meta(instance, *, errors, status):
        return render(
            request,
            f"{PAGE}#milestone-meta",
            {"room": room, "milestone": instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        current, context = milestone_in_context(room, pk)
        return render(
            request,
            f"{PAGE}#milestone-head",
            context | {"milestone": current, "conflict": conflict},
            status=status,
        )

    return _respond(request, result, render_meta, render_row, f"milestone-{pk}", room)


@require_POST
@member_required
def milestone_delete(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    get_object_or_404(Milestone.objects.for_room(room), pk=pk)
    services.milestone_delete(actor=seller_actor(request), room=room, milestone_id=pk)
    return _plan_section(request, room)


@require_POST
@member_required
def milestone_move(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    get_object_or_404(Milestone.objects.for_room(room), pk=pk)
    try:
        services.milestone_move(
            actor=seller_actor(request),
            room=room,
            milestone_id=pk,
            direction=request.POST.get("direction", ""),
        )
    except services.PlanError as exc:
        return _plan_section(request, room, status=422, errors=[str(exc)])
    return _plan_section(request, room)


# --- tasks -------------------------------------------------------------------------------


@require_POST
@member_required
def task_add(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    milestone = get_object_or_404(Milestone.objects.for_room(room), pk=pk)
    form = TaskAddForm(request.POST, room=room)
    if not form.is_valid():
        return _plan_section(
            request,
            room,
            status=422,
            task_add_form=form,
            task_add_milestone=milestone.pk,
            errors=form_errors(form),
        )
    try:
        services.task_create(
            actor=seller_actor(request), room=room, milestone=milestone, **form.cleaned_data
        )
    except ValidationError as exc:
        return _plan_section(
            request,
            room,
            status=422,
            task_add_form=form,
            task_add_milestone=milestone.pk,
            errors=exc.messages,
        )
    return _plan_section(request, room, focus_add=milestone.pk)


@require_POST
@member_required
def task_save(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    task = get_object_or_404(Task.objects.for_room(room).select_related("owner"), pk=pk)
    result = inline_save(
        request,
        instance=task,
        form_class=TaskForm,
        form_kwargs={"room": room},
        save=lambda *, changes, base_version: services.task_update(
            actor=seller_actor(request),
            room=room,
            task_id=pk,
            base_version=base_version,
            changes=changes,
        ),
    )

    def render_meta(instance, *, errors, status):
        annotate_task(instance, room=room, today=room.today())
        return render(
            request,
            f"{PAGE}#task-meta",
            {"room": room, "task": instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        current, context = task_in_context(room, pk)
        return render(
            request,
            f"{PAGE}#task-row",
            context | {"task": current, "conflict": conflict},
            status=status,
        )

    return _respond(request, result, render_meta, render_row, f"task-{pk}", room)


@require_POST
@member_required
def task_delete(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    get_object_or_404(Task.objects.for_room(room), pk=pk)
    services.task_delete(actor=seller_actor(request), room=room, task_id=pk)
    return _plan_section(request, room)


@require_POST
@member_required
def task_move(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    get_object_or_404(Task.objects.for_room(room), pk=pk)
    try:
        services.task_move(
            actor=seller_actor(request),
            room=room,
            task_id=pk,
            direction=request.POST.get("direction", ""),
        )
    except services.PlanError as exc:
        return _plan_section(request, room, status=422, errors=[str(exc)])
    return _plan_section(request, room)


@require_POST
@member_required
def comment_add(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    task = get_object_or_404(Task.objects.for_room(room), pk=pk)
    try:
        services.comment_create(
            actor=seller_actor(request), room=room, task=task, body=request.POST.get("body", "")
        )
        errors, status = [], 200
    except ValidationError as exc:
        errors, status = exc.messages, 422
    if not request.htmx:
        for error in errors:
            messages.error(request, error)
        return redirect(_room_url(room) + f"#task-{task.pk}")
    current, _ = task_in_context(room, pk)
    return render(
        request,
        "plans/_thread.html",
        {
            "task": current,
            "errors": errors,
            "post_url": request.path,
            "draft": request.POST.get("body", "") if errors else "",
            "answered": True,  # focus back in the box, and the count updated
        },
        status=status,
    )
