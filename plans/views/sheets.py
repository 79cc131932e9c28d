"""The decision criteria and risks of the plan, edited like the plan's rows."""

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
    CriterionForm,
    RiskForm,
)
from ..models import DecisionCriterion, Risk
from ..selectors import (
    room_plan,
)
from .base import PAGE, _respond, _room_url
from .editor import _plan_of

# --- decision criteria and risks ---------------------------------------------------------

SHEETS = {
    "criterion": (DecisionCriterion, CriterionForm, "criteria"),
    "risk": (Risk, RiskForm, "risks"),
}


def _sheet_section(request, room, name, *, status=200, **extra):
    if not request.htmx:
        for error in extra.get("errors", []):
            messages.error(request, error)
        return redirect(_room_url(room) + f"#{SHEETS[name][2]}")
    return render(request, f"{PAGE}#{SHEETS[name][2]}", room_plan(room) | extra, status=status)


@require_POST
@member_required
def sheet_add(request, room_id, kind):
    room = room_for_member(request.membership, room_id)
    plan = _plan_of(room)
    model, form_class, _ = SHEETS[kind]
    form = form_class(request.POST, room=room)
    if not form.is_valid():
        return _sheet_section(
            request, room, kind, status=422, **{f"{kind}_form": form}, errors=form_errors(form)
        )
    create = services.criterion_create if kind == "criterion" else services.risk_create
    try:
        create(actor=seller_actor(request), room=room, plan=plan, **form.cleaned_data)
    except ValidationError as exc:
        return _sheet_section(
            request, room, kind, status=422, **{f"{kind}_form": form}, errors=exc.messages
        )
    return _sheet_section(request, room, kind)


@require_POST
@member_required
def sheet_save(request, room_id, kind, pk):
    room = room_for_member(request.membership, room_id)
    model, form_class, section = SHEETS[kind]
    row = get_object_or_404(model.objects.for_room(room), pk=pk)
    update = services.criterion_update if kind == "criterion" else services.risk_update
    id_arg = "criterion_id" if kind == "criterion" else "risk_id"
    result = inline_save(
        request,
        instance=row,
        form_class=form_class,
        form_kwargs={"room": room},
        save=lambda *, changes, base_version: update(
            actor=seller_actor(request),
            room=room,
            base_version=base_version,
            changes=changes,
            **{id_arg: pk},
        ),
    )

    def render_meta(instance, *, errors, status):
        return render(
            request,
            f"{PAGE}#row-meta",
            {"room": room, "row": instance, "errors": errors, "saved": status == 200},
            status=status,
        )

    def render_row(instance, *, conflict, status):
        context = room_plan(room)
        current = next(r for r in context[section] if r.pk == pk)
        return render(
            request,
            f"{PAGE}#{kind}-row",
            context | {"row": current, "conflict": conflict},
            status=status,
        )

    return _respond(request, result, render_meta, render_row, f"{kind}-{pk}", room)


@require_POST
@member_required
def sheet_delete(request, room_id, kind, pk):
    room = room_for_member(request.membership, room_id)
    model = SHEETS[kind][0]
    get_object_or_404(model.objects.for_room(room), pk=pk)
    if kind == "criterion":
        services.criterion_delete(actor=seller_actor(request), room=room, criterion_id=pk)
    else:
        services.risk_delete(actor=seller_actor(request), room=room, risk_id=pk)
    return _sheet_section(request, room, kind)
