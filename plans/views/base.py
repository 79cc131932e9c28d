"""What the room page's views share: the page's template, its URL, the answer of an in-
place save, the parsing of numbers and dates, and file downloads."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.dateparse import parse_date

from rooms.inline import respond

from .. import services

PAGE = "plans/room.html"


PARTS = {"plan", "risks", "criteria"}


def _room_url(room):
    return reverse("plans:room", args=[room.pk])


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


def _date_or_none(value):
    try:
        return parse_date(value or "")
    except ValueError:
        return None


def comment_post(request, *, actor, room, task, back_url, current):
    """A comment on ``task`` through ``services.comment_create``, for sellers and buyers
    alike. Without htmx: back to ``back_url``, any refusal as a message; with htmx: the
    task's thread (``current()``: the task as the poster's page shows it) with its count
    updated and focus back in the box, the draft kept when it was refused."""
    body = request.POST.get("body", "")
    try:
        services.comment_create(actor=actor, room=room, task=task, body=body)
        errors, status = [], 200
    except ValidationError as exc:
        errors, status = exc.messages, 422
    if not request.htmx:
        for error in errors:
            messages.error(request, error)
        return redirect(back_url)
    context = {
        "task": current(),
        "errors": errors,
        "post_url": request.path,
        "draft": body if errors else "",
        "answered": True,
    }
    return render(request, "plans/_thread.html", context, status=status)
