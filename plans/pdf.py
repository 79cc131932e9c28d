"""The plan as a printable PDF, in the classic one-page MAP form.

Built from the same selectors as the pages (``room_plan`` for sellers, ``buyer_room``
for a buyer, so a buyer's PDF holds exactly what their scope shows). Rendering never
touches the network: fonts and styles are bundled, and the URL fetcher serves only
files under ``static/`` and refuses everything else.
"""

import mimetypes
import posixpath
from pathlib import Path

from django.conf import settings
from django.contrib.staticfiles import finders
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.text import slugify
from weasyprint import HTML
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from stakeholders.models import Side, Stakeholder

STATIC_SCHEME = "static:"


class StaticOnlyFetcher(URLFetcher):
    """Serves ``static:<path>`` from the project's static files; nothing else at all
    (no http, https, file or data URLs), so a PDF renders without network access."""

    def fetch(self, url, headers=None):
        if not url.startswith(STATIC_SCHEME):
            raise FatalURLFetchingError(f"The PDF renderer fetches no outside resource: {url}")
        path = local_static_path(url[len(STATIC_SCHEME) :])
        if path is None:
            raise FatalURLFetchingError(f"No such bundled file: {url}")
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


def local_static_path(relative):
    """The file a static path names, or None; never anything outside the static dirs."""
    relative = posixpath.normpath(relative.split("?")[0].split("#")[0]).lstrip("/")
    if relative.startswith("..") or "\\" in relative or not relative:
        return None
    found = finders.find(relative)
    if found:
        return Path(found)
    candidate = Path(settings.STATIC_ROOT) / relative
    root = Path(settings.STATIC_ROOT).resolve()
    if candidate.resolve().is_relative_to(root) and candidate.is_file():
        return candidate
    return None


def render_pdf(context):
    html = render_to_string("plans/pdf.html", context)
    return HTML(string=html, base_url=STATIC_SCHEME, url_fetcher=StaticOnlyFetcher()).write_pdf()


def seller_pdf_context(plan_context, *, room):
    """From ``room_plan(room)``: the whole plan and both sides' people."""
    return plan_context | {
        "org_name": room.org.name,
        "generated_at": timezone.now(),
        "next_review": room.next_review(),
        "people": plan_context["stakeholders"],
        "prepared_for": "",
    }


def buyer_pdf_context(buyer_context):
    """From ``buyer_room(access)``: only what this buyer sees on their page."""
    room, me = buyer_context["room"], buyer_context["me"]
    people = list(Stakeholder.objects.for_room(room).seen_by(me))
    return buyer_context | {
        "org_name": room.org.name,
        "generated_at": timezone.now(),
        "people": sorted(people, key=lambda p: (p.side != Side.BUYER, p.name)),
        "prepared_for": me.name,
    }


def pdf_filename(room):
    return f"mutual-action-plan-{slugify(room.buyer_company) or 'room'}.pdf"
