"""The room's documents for a buyer: those in their scope, their own uploads (which can
be completion evidence for one of their tasks), and downloads."""

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from stakeholders.buyer_views import buyer_required
from stakeholders.links.sessions import _is_seller

from . import services
from .models import Document
from .selectors import buyer_documents
from .serving import file_response
from .validation import ACCEPT, KINDS_LABEL, UploadRejected
from .views import upload_errors

TEMPLATE = "documents/buyer_section.html"


def _context(access, **extra):
    return {
        "room": access.room,
        "me": access.stakeholder,
        "documents": buyer_documents(access),
        "evidence_tasks": services.buyer_evidence_tasks(access),
        "accept": ACCEPT,
        "kinds_label": KINDS_LABEL,
        "max_bytes": settings.DOCUMENT_MAX_BYTES,
        **extra,
    }


@require_GET
@buyer_required
def section(request):
    if request.htmx:
        return render(request, f"{TEMPLATE}#section", _context(request.buyer))
    return render(request, TEMPLATE, _context(request.buyer))


@require_POST
@buyer_required
def upload(request):
    access = request.buyer
    task = None
    if request.POST.get("task"):
        task = next(
            (t for t in services.buyer_evidence_tasks(access) if str(t.pk) == request.POST["task"]),
            None,
        )
        if task is None:
            raise Http404("No such task.")
    errors = upload_errors(request)
    if not errors:
        try:
            document = services.document_upload(
                actor=access.actor,
                room=access.room,
                upload=request.FILES["file"],
                task=task,
            )
        except (UploadRejected, ValidationError) as exc:
            errors = [exc.messages[0] if isinstance(exc, ValidationError) else str(exc)]
        else:
            if not request.htmx:
                messages.success(request, f"“{document.name}” shared with {access.room.org.name}.")
    if request.htmx:
        return render(
            request,
            f"{TEMPLATE}#section",
            _context(access, errors=errors),
            status=422 if errors else 200,
        )
    for error in errors:
        messages.error(request, error)
    return redirect(
        reverse("buyer_documents:section") if errors else reverse("buyer:room") + "#documents"
    )


@require_GET
@buyer_required
def download(request, pk):
    access = request.buyer
    try:
        document = Document.objects.for_room(access.room).visible_to(access.stakeholder).get(pk=pk)
    except Document.DoesNotExist:
        raise Http404("No such document.") from None
    if not _is_seller(request, access.room):  # a seller trying the link is not the buyer
        services.document_open(room=access.room, document=document, stakeholder=access.stakeholder)
    return file_response(document)
