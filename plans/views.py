"""The room page and its plan editor (htmx partials of the same template)."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.dateparse import parse_date
from django.utils.http import urlencode
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import reswap, retarget

from accounts.membership import member_required
from accounts.models import Membership
from rooms.actors import seller_actor
from rooms.inline import form_errors, inline_save, respond
from rooms.models import Outcome
from rooms.render_cache import room_render
from rooms.selectors import room_for_member
from rooms.services import OutcomeError, room_close, room_reopen
from rooms.versioning import RoomReadOnly, StaleWrite
from stakeholders import calendar
from stakeholders.models import Stakeholder

from . import services
from .forms import (
    CriterionForm,
    MilestoneAddForm,
    MilestoneForm,
    RiskForm,
    TaskAddForm,
    TaskForm,
)
from .health import room_signals
from .live import SESSION_LABEL, seller_ticket
from .models import DecisionCriterion, Milestone, Plan, Risk, Task
from .selectors import (
    annotate_task,
    milestone_in_context,
    replan_offer,
    room_plan,
    task_in_context,
)
from .templates_builtin import BUILTIN_TEMPLATES

PAGE = "plans/room.html"
PARTS = {"plan", "risks", "criteria"}


def _room_url(room):
    return reverse("plans:room", args=[room.pk])


@require_GET
@member_required
def room_page(request, room_id):
    room = room_for_member(request.membership, room_id, with_plan=True)
    # Live polls name the viewer without loading the user (see plans/live.py).
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
        request, room=room, audience="seller", render=render_body, shared=replan_from is None
    )
    context = {"room": room, "body": body, "live_ticket": seller_ticket(request.user.pk, room.pk)}
    return render(request, PAGE, context)


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
            actor=seller_actor(request), room=room, template_slug=request.POST.get("template", "")
        )
    except services.PlanError as exc:
        messages.error(request, str(exc))
    else:
        if plan.layout and plan.layout.message:
            messages.warning(request, plan.layout.message)
    return redirect(_room_url(room))


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


# --- helpers ----------------------------------------------------------------------------


def _respond(request, result, render_meta, render_row, row_id, room):
    return respond(
        request,
        result,
        render_meta=render_meta,
        render_row=render_row,
        row_id=row_id,
        fallback_url=_room_url(room),
    )


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


# The range of the database's integer columns: a posted number outside it names nothing
# (an id or a version beyond it would overflow the query on SQLite).
INT_RANGE = range(-(2**63), 2**63)


def _int_or_none(value):
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number in INT_RANGE else None


# --- taking the plan out of the room: PDF and the weekly review ----------------------


def download(body, *, content_type, filename):
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@member_required
def room_pdf(request, room_id):
    from .pdf import pdf_filename, render_pdf, seller_pdf_context  # loads the renderer

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


# --- plan problems: one-click fixes --------------------------------------------------


@require_POST
@member_required
def plan_fix(request, room_id):
    """Apply the one-click fix of one of the plan's problems (the problems panel posts
    ``code``, ``target``, the row's ``version`` and the offered ``date``). htmx gets the
    plan redrawn, the plan's status line with it; a plain post goes back to the room."""
    room = room_for_member(request.membership, room_id)
    _plan_of(room)
    error, done = "", ""
    try:
        row = services.plan_problem_fix(
            actor=seller_actor(request),
            room=room,
            code=request.POST.get("code", ""),
            target_id=request.POST.get("target", ""),
            base_version=_int_or_none(request.POST.get("version")),
            fix_date=_date_or_none(request.POST.get("date")),
        )
    except services.PlanError as exc:
        error = str(exc)
    except StaleWrite as exc:
        clash = next(iter(exc.clashes.values()))
        by = "you, in another window," if clash.get("by_you") else clash["by"]
        now = clash.get("theirs_raw")
        now = f"{now.day} {now:%b}" if now else "no date"
        error = f"Not moved: {by} changed its date meanwhile (now {now}). Check it and try again."
    except (Milestone.DoesNotExist, Task.DoesNotExist):
        error = "Not moved: that row was deleted meanwhile."
    else:
        date = row.target_date if isinstance(row, Milestone) else row.due_date
        done = f"Moved “{row.title}” to {date.day} {date:%b}."
    if not request.htmx:
        if error:
            messages.error(request, error)
            return redirect(_room_url(room) + "#plan-problems")
        messages.success(request, done)
        kind = "milestone" if isinstance(row, Milestone) else "task"
        return redirect(_room_url(room) + f"#{kind}-{row.pk}")
    context = room_plan(room) | {"problem_error": error, "problem_done": done}
    body = render_to_string(f"{PAGE}#plan", context, request) + render_to_string(
        f"{PAGE}#plan-status", context | {"oob": True}, request
    )
    return HttpResponse(body, status=409 if error else 200)


def _date_or_none(value):
    try:
        return parse_date(value or "")
    except ValueError:
        return None


# --- re-plan: the open work moves with the close date -------------------------------


def _replan_prompt(request, room, *, status=200, **context):
    return render(
        request, "rooms/_header.html#replan-prompt", {"room": room, **context}, status=status
    )


@require_http_methods(["GET", "POST"])
@member_required
def replan(request, room_id):
    """After the room header saved a new close date, the header offers to move the plan's
    open work by as many days. GET ``?from=<the previous date>``: the offer (htmx), or
    the room page showing it. POST ``action=move`` with ``previous_close_date``,
    ``target_close_date`` and the room's ``revision`` when offered: moves it
    (plans.services.plan_replan); ``action=keep``: nothing moves. htmx gets the plan
    redrawn with the header; a plain post goes back to the room."""
    room = room_for_member(request.membership, room_id)
    if request.method == "GET":
        previous = request.GET.get("from", "")
        if not request.htmx:
            return redirect(_room_url(room) + "?" + urlencode({"replan_from": previous}))
        return _replan_prompt(request, room, replan=replan_offer(room, _date_or_none(previous)))
    if request.POST.get("action") != "move":
        if not request.htmx:
            return redirect(_room_url(room))
        return _replan_prompt(request, room, replan_note="The plan's open work keeps its dates.")
    previous = _date_or_none(request.POST.get("previous_close_date"))
    offer = replan_offer(room, previous)
    error, status = "", 200
    try:
        if previous is None:  # the offer always names it: a post made by hand
            raise ValidationError("Give the close date the work moves from (YYYY-MM-DD).")
        services.plan_replan(
            actor=seller_actor(request),
            room=room,
            target_close_date=_date_or_none(request.POST.get("target_close_date")),
            previous_close_date=previous,
            offered_at_revision=_int_or_none(request.POST.get("revision")),
        )
    except ValidationError as exc:
        error, status = " ".join(exc.messages), 422
    except (services.PlanError, RoomReadOnly) as exc:
        error, status = str(exc), 409
    done = "" if error else "Nothing in the plan needed to move."
    if not error and offer:
        count, days = offer["count"], offer["days"]
        done = (
            f"Moved {count} open item{pluralize(count)} {days} day{pluralize(days)} "
            f"{'later' if offer['later'] else 'earlier'}, with the close date."
        )
    if not request.htmx:
        if error:
            messages.error(request, error)
        else:
            messages.success(request, done)
        return redirect(_room_url(room) + ("" if error else "#plan"))
    if error:
        response = _replan_prompt(request, room, status=status, replan_error=error)
        return reswap(retarget(response, "#replan-prompt"), "outerHTML")
    context = room_plan(room) | {"request": request}
    body = (
        render_to_string(f"{PAGE}#plan", context, request)
        + render_to_string(f"{PAGE}#plan-status", context | {"oob": True}, request)
        + render_to_string(
            "rooms/_header.html", context | {"header_oob": True, "replan_note": done}, request
        )
    )
    return HttpResponse(body)
