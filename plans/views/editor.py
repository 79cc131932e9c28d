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
from .base import PAGE, _respond, _room_url, comment_post


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


def _row_views(model, noun):
    """The delete and move views of a plan row (``noun``: "milestone" or "task"), each
    through the row's service (``services.<noun>_delete``, ``<noun>_move``) and
    answering with the plan section."""

    @require_POST
    @member_required
    def delete(request, room_id, pk):
        room = room_for_member(request.membership, room_id)
        get_object_or_404(model.objects.for_room(room), pk=pk)
        service = getattr(services, f"{noun}_delete")
        service(actor=seller_actor(request), room=room, **{f"{noun}_id": pk})
        return _plan_section(request, room)

    @require_POST
    @member_required
    def move(request, room_id, pk):
        room = room_for_member(request.membership, room_id)
        get_object_or_404(model.objects.for_room(room), pk=pk)
        service = getattr(services, f"{noun}_move")
        try:
            service(
                actor=seller_actor(request),
                room=room,
                direction=request.POST.get("direction", ""),
                **{f"{noun}_id": pk},
            )
        except services.PlanError as exc:
            return _plan_section(request, room, status=422, errors=[str(exc)])
        return _plan_section(request, room)

    delete.__name__, move.__name__ = f"{noun}_delete", f"{noun}_move"
    return delete, move


def _saved(request, room, pk, result, *, noun, row, in_context, annotate=None):
    """The answer of an in-place save of a plan row: its meta cell (``PAGE#<noun>-meta``)
    when it saved or was refused, the row as it now is (``PAGE#<row>``) with a conflict
    card when it clashed."""

    def render_meta(instance, *, errors, status):
        if annotate is not None:
            annotate(instance)
        return render(
            request,
            f"{PAGE}#{noun}-meta",
            {"room": room, noun: instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        current, context = in_context(room, pk)
        return render(
            request, f"{PAGE}#{row}", context | {noun: current, "conflict": conflict}, status=status
        )

    return _respond(request, result, render_meta, render_row, f"{noun}-{pk}", room)


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

    return _saved(
        request,
        room,
        pk,
        result,
        noun="milestone",
        row="milestone-head",
        in_context=milestone_in_context,
    )


milestone_delete, milestone_move = _row_views(Milestone, "milestone")


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

    return _saved(
        request,
        room,
        pk,
        result,
        noun="task",
        row="task-row",
        in_context=task_in_context,
        annotate=lambda task: annotate_task(task, room=room, today=room.today()),
    )


task_delete, task_move = _row_views(Task, "task")


@require_POST
@member_required
def comment_add(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    task = get_object_or_404(Task.objects.for_room(room), pk=pk)
    return comment_post(
        request,
        actor=seller_actor(request),
        room=room,
        task=task,
        back_url=_room_url(room) + f"#task-{task.pk}",
        current=lambda: task_in_context(room, pk)[0],
    )
