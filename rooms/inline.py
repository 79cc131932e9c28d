"""In-place editing of one row: the shared HTTP side of every editable row.

A row is a form that posts on ``change`` with ``_field`` naming the input that
changed (htmx adds it), plus the ``version`` the page was rendered from. Only that
field is validated and saved, so two people editing different fields of one row
both win. Without JavaScript the whole form posts and every field is saved.

Answers: 200 with the row's status cell (new version, warnings, "saved");
422 with the status cell showing the error (the input keeps what was typed);
409 with the whole row as it is now plus a conflict card (the other person's value,
who, when, beside the draft) — retargeted to the row so nothing else moves.
"""

import copy
import datetime
import json

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import modelform_factory
from django.shortcuts import redirect
from django_htmx.http import reswap, retarget

from .versioning import StaleWrite


class Conflict(dict):
    """Clashing fields (see StaleWrite.clashes, each with its current ``value`` as the
    form holds it), plus what "keep mine" re-posts."""

    keep_vals = "{}"
    by_you = False  # every clash is the writer's own change from another window


class InlineResult:
    def __init__(self, *, status, instance=None, errors=None, conflict=None):
        self.status = status
        self.instance = instance
        self.errors = errors or []
        self.conflict = conflict


def inline_save(request, *, instance, form_class, form_kwargs, save):
    """Validate the posted field(s) and hand them to ``save(changes, base_version)``.

    ``save`` may receive many-to-many fields in ``changes`` (as querysets/lists).
    """
    try:
        base_version = int(request.POST.get("version", ""))
    except ValueError:
        return InlineResult(
            status=422,
            instance=instance,
            errors=["This page is out of date: reload it and try again."],
        )
    declared = list(form_class._meta.fields)
    field = request.POST.get("_field")
    names = [field] if field in declared else [n for n in declared if _posted(request, n)]
    if not names:
        return InlineResult(status=422, instance=instance, errors=["Nothing to save."])
    form_cls = modelform_factory(form_class._meta.model, form=form_class, fields=names)
    form = form_cls(data=request.POST, instance=copy.copy(instance), **form_kwargs)
    if not form.is_valid():
        return InlineResult(status=422, instance=instance, errors=_messages(form.errors))
    changes = {name: form.cleaned_data[name] for name in names}
    try:
        saved = save(changes=changes, base_version=base_version)
    except StaleWrite as refused:
        conflict = Conflict(
            {
                name: clash | {"value": form_value(refused.instance, name)}
                for name, clash in refused.clashes.items()
            }
        )
        conflict.by_you = all(clash.get("by_you") for clash in refused.clashes.values())
        keep = {"_row": "1", "version": str(refused.instance.version)}
        if len(names) == 1:
            keep["_field"] = names[0]
        for name in refused.clashes:
            values = request.POST.getlist(name)
            keep[name] = values if len(values) != 1 else values[0]
        conflict.keep_vals = json.dumps(keep)
        return InlineResult(status=409, instance=refused.instance, conflict=conflict)
    except ValidationError as exc:
        return InlineResult(status=422, instance=instance, errors=_messages(exc))
    return InlineResult(status=200, instance=saved)


def form_value(instance, name):
    """A field's value as its input posts it (one string; several values sorted and
    joined with commas), so the page can tell whether a newer row changed it."""
    field = instance._meta.get_field(name)
    if field.many_to_many:
        values = [str(pk) for pk in getattr(instance, name).values_list("pk", flat=True)]
        return ",".join(sorted(values))
    value = getattr(instance, field.attname)
    if value is None:
        return ""
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, datetime.time):
        return value.strftime("%H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)


def _posted(request, name):
    # Checkboxes and multi-selects post nothing when empty; the no-JS form marks them.
    return name in request.POST or f"_present_{name}" in request.POST


def _messages(errors):
    if isinstance(errors, ValidationError):
        if hasattr(errors, "error_dict"):
            errors = {k: [m for e in v for m in e.messages] for k, v in errors.error_dict.items()}
        else:
            return list(errors.messages)
    out = []
    for name, msgs in errors.items():
        prefix = "" if name == "__all__" else f"{name.replace('_', ' ').capitalize()}: "
        out.extend(prefix + str(m) for m in msgs)
    return out


def respond(request, result, *, render_meta, render_row, row_id, fallback_url):
    """Turn an InlineResult into the response htmx (or a plain form post) expects."""
    if not request.htmx:
        if result.status == 200:
            messages.success(request, "Saved.")
        elif result.status == 409:
            fields = ", ".join(c["label"] for c in result.conflict.values())
            messages.error(
                request,
                f"Not saved: someone else changed {fields} meanwhile. "
                "Their value is shown; re-enter yours if it should win.",
            )
        else:
            messages.error(request, "Not saved: " + " ".join(result.errors))
        return redirect(fallback_url)
    if result.status == 409:
        response = render_row(result.instance, conflict=result.conflict, status=409)
        return reswap(retarget(response, f"#{row_id}"), "outerHTML")
    if result.status == 200 and request.POST.get("_row"):
        # "Keep mine" from a conflict card: redraw the whole row, the card gone.
        return render_row(result.instance, conflict=None, status=200)
    return render_meta(result.instance, errors=result.errors, status=result.status)


def form_errors(form):
    """A form's errors as "Label: message" lines, for the inline error spots."""
    out = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        out.extend(f"{label}: {e}" if label else str(e) for e in errors)
    return out
