"""The room's documents for the seller's team: the list (with who opened what and the
contradiction signal), uploads, downloads and deletion."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from accounts.membership import member_required
from plans.models import Milestone
from rooms.actors import seller_actor
from rooms.selectors import room_for_member

from . import services
from .models import Document
from .selectors import contradictions, seller_documents
from .serving import file_response
from .validation import ACCEPT, KINDS_LABEL, UploadRejected

TEMPLATE = "documents/section.html"


def _context(room, **extra):
    documents = seller_documents(room)
    return {
        "room": room,
        "documents": documents,
        "contradictions": contradictions(documents),
        "milestones": services.room_milestones(room),
        "accept": ACCEPT,
        "kinds_label": KINDS_LABEL,
        "max_bytes": settings.DOCUMENT_MAX_BYTES,
        **extra,
    }


def _answer(request, room, *, status=200, errors=()):
    if request.htmx:
        context = _context(room, errors=list(errors), oob=True)
        return render(request, f"{TEMPLATE}#section", context, status=status)
    if errors:
        for error in errors:
            messages.error(request, error)
        return redirect(reverse("documents:section", args=[room.pk]))
    return redirect(reverse("plans:room", args=[room.pk]) + "#documents")


@require_GET
@member_required
def section(request, room_id):
    room = room_for_member(request.membership, room_id)
    if request.htmx:
        # Also refreshes the signals at the top of the room page (out of band).
        return render(request, f"{TEMPLATE}#section", _context(room, oob=True))
    return render(request, TEMPLATE, _context(room))


@require_POST
@member_required
def upload(request, room_id):
    room = room_for_member(request.membership, room_id)
    milestone = None
    if request.POST.get("milestone"):
        try:
            milestone_id = uuid.UUID(request.POST["milestone"])
        except ValueError:
            raise Http404("No such milestone.") from None
        milestone = get_object_or_404(Milestone.objects.for_room(room), pk=milestone_id)
    errors = upload_errors(request)
    if not errors:
        try:
            document = services.document_upload(
                actor=seller_actor(request),
                room=room,
                upload=request.FILES["file"],
                milestone=milestone,
            )
        except (UploadRejected, ValidationError) as exc:
            errors = [exc.messages[0] if isinstance(exc, ValidationError) else str(exc)]
        else:
            if not request.htmx:
                messages.success(request, f"“{document.name}” uploaded.")
    return _answer(request, room, status=422 if errors else 200, errors=errors)


def upload_errors(request):
    """Why the posted form carries no usable file, or [] when it does."""
    if getattr(request, "upload_too_large", False):
        from django.template.defaultfilters import filesizeformat

        return [
            f"This file is too large; the limit is {filesizeformat(settings.DOCUMENT_MAX_BYTES)}."
        ]
    if "file" not in request.FILES:
        return ["Choose a file to upload."]
    return []


@require_GET
@member_required
def download(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    document = get_object_or_404(Document.objects.for_room(room), pk=pk)
    services.document_open(room=room, document=document, user=request.user)
    return file_response(document)


@require_POST
@member_required
def delete(request, room_id, pk):
    room = room_for_member(request.membership, room_id)
    try:
        services.document_delete(actor=seller_actor(request), room=room, document_id=pk)
    except Document.DoesNotExist:
        raise Http404("No such document.") from None
    return _answer(request, room)
