"""The organisation's templates: the list (every member), the editor and deleting
(admins and managers), saving a room's plan as a template, and, on a room without a
plan, the template picker with a preview of the dates each would give it."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from accounts.membership import member_required
from rooms.selectors import room_for_member
from stakeholders.models import DecisionRole, Stakeholder

from .. import services
from ..models import Plan, Playbook
from ..playbook_editor import CHOICES, blank_milestone, editor_read, editor_rows
from ..playbook_format import PlaybookError
from ..templates_builtin import BUILTIN_TEMPLATES

EDITORS = services.playbooks.EDITORS
LIST = "plans/playbooks/list.html"
EDIT = "plans/playbooks/edit.html"


def _org_playbooks(org_id):
    """The organisation's templates, each with its ``spec`` (None for one that no longer
    loads, which the list still shows so it can be fixed or deleted)."""
    rows = list(Playbook.objects.for_org(org_id).select_related("created_by"))
    for row in rows:
        try:
            row.loaded = row.spec
        except PlaybookError:
            row.loaded = None
    return rows


@require_GET
@member_required
def playbook_list(request):
    return render(
        request,
        LIST,
        {
            "playbooks": _org_playbooks(request.org.pk),
            "builtins": BUILTIN_TEMPLATES.values(),
            "can_edit": services.playbook_can_edit(request.membership),
        },
    )


def _editor(request, data, *, playbook=None, errors=(), status=200):
    context = {
        "playbook": playbook,
        "data": data,
        "rows": editor_rows(data),
        "errors": list(errors),
        "choices": CHOICES,
        "unsaved": request.method == "POST",
    }
    return render(request, EDIT, context, status=status)


@require_http_methods(["GET", "POST"])
@member_required(roles=EDITORS)
def playbook_new(request):
    if request.method == "GET":
        data = {"name": "", "motion": "", "description": "", "milestones": [blank_milestone()]}
        return _editor(request, data)
    data, action = editor_read(request.POST)
    if action != "save":
        return _editor(request, data)
    try:
        playbook = services.playbook_create(membership=request.membership, data=data)
    except PlaybookError as exc:
        return _editor(request, data, errors=exc.problems, status=422)
    messages.success(request, f"Template “{playbook.name}” saved.")
    return redirect("playbooks:list")


def _playbook_or_404(request, pk):
    playbook = Playbook.objects.for_org(request.org.pk).filter(pk=pk).first()
    if playbook is None:
        raise Http404("No such template.")
    return playbook


@require_http_methods(["GET", "POST"])
@member_required(roles=EDITORS)
def playbook_edit(request, pk):
    playbook = _playbook_or_404(request, pk)
    if request.method == "GET":
        return _editor(request, playbook.as_data(), playbook=playbook)
    data, action = editor_read(request.POST)
    if action != "save":
        return _editor(request, data, playbook=playbook)
    try:
        saved = services.playbook_update(
            membership=request.membership,
            playbook_id=playbook.pk,
            base_version=_version(request.POST.get("version")),
            data=data,
        )
    except PlaybookError as exc:
        return _editor(request, data, playbook=playbook, errors=exc.problems, status=422)
    except services.PlaybookChanged as exc:
        return _editor(request, data, playbook=playbook, errors=[str(exc)], status=409)
    except Playbook.DoesNotExist:  # deleted from another window meanwhile
        raise Http404("No such template.") from None
    messages.success(request, f"Template “{saved.name}” saved.")
    return redirect("playbooks:list")


def _version(value):
    try:
        return max(0, min(2**31, int(value)))
    except (TypeError, ValueError):
        return 0  # no version posted: refused as changed, never saved over


@require_http_methods(["GET", "POST"])
@member_required(roles=EDITORS)
def playbook_delete(request, pk):
    playbook = _playbook_or_404(request, pk)
    if request.method == "POST":
        services.playbook_delete(membership=request.membership, playbook_id=playbook.pk)
        messages.success(
            request,
            f"Template “{playbook.name}” deleted. Rooms started from it keep their plans.",
        )
        return redirect("playbooks:list")
    used = services.playbook_started_count(playbook)
    return render(request, "plans/playbooks/delete.html", {"playbook": playbook, "used": used})


# --- from a room ------------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@member_required(roles=EDITORS)
def room_save_as_playbook(request, room_id):
    room = room_for_member(request.membership, room_id)
    plan = Plan.objects.for_room(room).first()
    if plan is None:
        raise Http404("This room has no plan yet.")
    form = {
        "name": request.POST.get("name", f"{room.name} plan"[:120]),
        "motion": request.POST.get("motion", ""),
        "description": request.POST.get("description", ""),
    }
    errors = []
    if request.method == "POST":
        try:
            playbook = services.playbook_from_room(membership=request.membership, room=room, **form)
        except (PlaybookError, services.PlanError) as exc:
            errors = getattr(exc, "problems", None) or [str(exc)]
        else:
            messages.success(
                request,
                f"Saved as the template “{playbook.name}”. Check its offsets and owners' "
                "roles, then start the next deal from it.",
            )
            return redirect("playbooks:edit", pk=playbook.pk)
    return render(
        request,
        "plans/playbooks/save_from_room.html",
        {"room": room, "form": form, "errors": errors},
        status=422 if errors else 200,
    )


def _choice(request):
    """The template a picker's request names: ``(template_slug, playbook)``."""
    return request.GET.get("template") or "empty", request.GET.get("playbook") or None


@require_GET
@member_required
def start_choices(request, room_id):
    """Every template a room's plan can start from: the built-ins and the
    organisation's own (the room page loads the latter into its picker)."""
    room = room_for_member(request.membership, room_id)
    context = {
        "room": room,
        "templates": BUILTIN_TEMPLATES.values(),
        "playbooks": [p for p in _org_playbooks(room.org_id) if p.loaded],
        "can_edit": services.playbook_can_edit(request.membership),
    }
    if request.htmx:
        return render(request, "plans/playbooks/start.html#org-templates", context)
    return render(request, "plans/playbooks/start.html", context)


@require_GET
@member_required
def start_preview(request, room_id):
    """The milestones and tasks a template would give this room if started now, with
    their dates and owners, and a button that starts it."""
    room = room_for_member(request.membership, room_id)
    template_slug, playbook = _choice(request)
    try:
        spec, dates = services.plan_preview(room, template_slug=template_slug, playbook=playbook)
    except services.PlanError as exc:
        raise Http404(str(exc)) from None
    if spec is None:
        return redirect(reverse("plans:start_choices", args=[room.pk]))
    owners = services.plan.role_owners(room)
    roles = dict(DecisionRole.choices)
    milestones = []
    for m, day, task_days in zip(spec.milestones, dates.milestones, dates.tasks, strict=True):
        tasks = [
            {
                "title": t.title,
                "side": t.side,
                "due": due,
                "role": roles.get(t.owner_role, ""),
                "owner": owners.get((t.side, t.owner_role)),
            }
            for t, due in zip(m.tasks, task_days, strict=True)
        ]
        milestones.append({"spec": m, "date": day, "tasks": tasks})
    context = {
        "room": room,
        "spec": spec,
        "layout": dates,
        "milestones": milestones,
        "template_slug": template_slug,
        "playbook": playbook,
        "has_plan": Plan.objects.for_room(room).exists(),
        "people": Stakeholder.objects.for_room(room).exists(),
    }
    if request.htmx:
        return render(request, "plans/playbooks/preview.html#preview", context)
    return render(request, "plans/playbooks/preview.html", context)
