"""Handing a stored document back: always as a download, never rendered in the page."""

from django.http import FileResponse, Http404

from .validation import CSV, TEXT

# No page can come out of these responses, even if a browser ignored the headers.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'; form-action 'none'"


def file_response(document):
    try:
        handle = document.file.open("rb")
    except (FileNotFoundError, OSError):
        raise Http404("This document's file is missing.") from None
    content_type = document.content_type
    if content_type in (CSV, TEXT):
        content_type += "; charset=utf-8"
    response = FileResponse(
        handle, as_attachment=True, filename=document.name, content_type=content_type
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = DOWNLOAD_CSP
    response["Cross-Origin-Resource-Policy"] = "same-origin"
    response["Cache-Control"] = "private, no-store"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Frame-Options"] = "DENY"
    return response
