"""The fragments a live update redraws: of the seller's room page and of the buyer's,
for what changed, rendered with the page's context."""

import uuid

from django.middleware.csrf import get_token
from django.template.loader import render_to_string


def _fragment_context(context, request):
    """What a fragment is rendered with: the page's context, the request, and the CSRF
    token, so a plain form redrawn by a live update still posts (the context
    processors do not run for a fragment)."""
    return context | {"request": request, "csrf_token": get_token(request)}


def _seller_fragments(context, changes):
    page = "plans/room.html"
    out, by = [], {}
    sections = changes.sections
    if context["plan"] is None and (changes.tasks or changes.milestones or "plan" in sections):
        return [], {}, True
    if "plan" in sections:
        out.append(render_to_string(f"{page}#plan", context))
        by["plan"] = sections["plan"]
        out.append(render_to_string(f"{page}#plan-status", context))
    else:
        tasks = {t.pk: t for m in context["milestones"] for t in m.task_list}
        for task_id, who in changes.tasks.items():
            task = tasks.get(uuid_or_none(task_id))
            if task is not None:
                out.append(render_to_string(f"{page}#task-row", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        milestones = {m.pk: m for m in context["milestones"]}
        for milestone_id, who in changes.milestones.items():
            milestone = milestones.get(uuid_or_none(milestone_id))
            if milestone is not None:
                out.append(
                    render_to_string(f"{page}#milestone-head", context | {"milestone": milestone})
                )
                by[f"milestone-{milestone.pk}"] = who
        if context["plan"] is not None and (
            changes.tasks or changes.milestones or changes.summary or "header" in sections
        ):
            # The counts and the projected close, the plan's problems, and each row's
            # schedule marks: one changed date can move the critical path anywhere.
            for part in ("plan-status", "plan-problems", "schedule-marks"):
                out.append(render_to_string(f"{page}#{part}", context))
            out.append(render_to_string("plans/_timeline.html", context))
    if "stakeholders" in sections:
        out.append(render_to_string("stakeholders/_section.html#section", context))
        by["stakeholders"] = sections["stakeholders"]
    for name in ("criteria", "risks"):
        if name in sections and context["plan"] is not None:
            out.append(render_to_string(f"{page}#{name}", context))
            by[name] = sections[name]
    if "header" in sections:
        out.append(render_to_string("rooms/_header.html", context))
        by["room-header"] = sections["header"]
    out.append(render_to_string(f"{page}#recent", context))
    return out, by, False


def _buyer_fragments(context, changes):
    page = "buyer/room.html"
    out, by = [], {}
    sections = changes.sections
    if "plan" in sections:
        out.append(render_to_string(f"{page}#plan", context))
        by["plan"] = sections["plan"]
    else:
        tasks = {t.pk: t for m in context["milestones"] for t in m.task_list}
        for task_id, who in changes.tasks.items():
            task = tasks.get(uuid_or_none(task_id))
            if task is not None:  # tasks outside the buyer's scope stay out
                out.append(render_to_string(f"{page}#task", context | {"task": task}))
                by[f"task-{task.pk}"] = who
        if changes.milestones:
            out.append(render_to_string(f"{page}#plan", context))
            by["plan"] = next(iter(changes.milestones.values()))
    if sections.keys() & {"overview", "header", "plan"} or changes.tasks or changes.summary:
        out.append(render_to_string(f"{page}#overview", context))
        out.append(render_to_string(f"{page}#agree", context))
    if "stakeholders" in sections:
        out.append(render_to_string(f"{page}#contacts", context))
    for name in ("criteria", "risks"):
        if name in sections:
            out.append(render_to_string(f"{page}#extras", context))
            break
    return out, by, False


def uuid_or_none(value):
    """A UUID from what a request carried, or None for anything that is not one."""
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None
