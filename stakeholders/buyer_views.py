"""The buyer's way in: the personal link, the session it starts, and the pages for a
link that no longer works. Every buyer page goes through ``buyer_required``."""

from functools import wraps

from django.conf import settings
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.csp import CSP
from django.views.decorators.http import require_POST

from accounts.throttle import token_found, token_guess_allowed
from rooms.middleware import read_only_response
from rooms.revision import RoomReadOnly

from .links import (
    LinkGone,
    buyer_session,
    buyer_session_end,
    buyer_session_start,
    link_find,
    link_refresh_request,
)


def content_security_policy():
    """The buyer's policy: every page's (settings.SECURE_CSP, set by Django's middleware)
    without the nonce, so no inline script or style at all."""
    return {
        name: [value for value in values if value != CSP.NONCE]
        if isinstance(values, list | tuple | set)
        else values
        for name, values in settings.SECURE_CSP.items()
    }


def protect(response, *, quiet=False):
    """Headers every buyer response carries. ``quiet`` keeps Django from logging the
    request path (it holds a token)."""
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Cache-Control"] = "no-store"
    # Read by the CSP middleware; a download's own, stricter header (a sandbox) wins.
    response._csp_config = content_security_policy()  # noqa: SLF001 - Django's own hook
    if quiet:
        response._has_been_logged = True  # noqa: SLF001 - Django's own flag
    return response


def gone_page(request, link, *, status=410, quiet=False, sent=None):
    room = link.room
    owner = room.owner
    context = {
        "link": link,
        "room": room,
        "ask_name": owner.display_name if owner else room.org.name,
        "ask_email": owner.email if owner else "",
        "org_name": room.org.name,
        "expired": link.state == "expired",
        "sent": sent,
    }
    return protect(render(request, "buyer/gone.html", context, status=status), quiet=quiet)


def not_found(request, *, quiet=True, status=404):
    return protect(render(request, "buyer/not_found.html", status=status), quiet=quiet)


def buyer_required(view):
    """Resolve the buyer session: ``request.buyer`` is the BuyerAccess. No session: 404.
    A revoked or expired link: 410, on the very next request."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            access = buyer_session(request)
        except LinkGone as gone:
            response = gone_page(request, gone.link)
            if request.htmx:
                # A click inside the page: reload it, so the 410 page is what they see.
                response["HX-Refresh"] = "true"
            return response
        if access is None:
            return not_found(request, quiet=False)
        request.buyer = access
        try:
            response = view(request, *args, **kwargs)
        except Http404:
            # Not Django's generic page: a buyer's 404 carries the buyer headers too.
            return not_found(request, quiet=False)
        except RoomReadOnly as exc:
            room = access.room
            ask = room.owner.display_name if room.owner else room.org.name
            message = (
                "This deal is closed, so the plan is read-only: nothing was changed. "
                f"Ask {ask} if you think that is a mistake."
            )
            return protect(
                read_only_response(
                    request,
                    exc,
                    back_url=reverse("buyer:room"),
                    template="buyer/read_only.html",
                    message=message,
                    context={"room": room},
                )
            )
        return protect(response)

    return wrapper


def open_link(request, token):
    """The personal link. Active: a new buyer session and a 303 to the token-free room.
    Expired: 410 with a form to ask for a fresh one. Revoked: 410. Unknown: 404."""
    if request.method not in ("GET", "POST"):
        # Not require_http_methods: it would log the path, and so the token.
        return protect(HttpResponseNotAllowed(["GET", "POST"]), quiet=True)
    if not token_guess_allowed(request):
        return protect(render(request, "buyer/slow_down.html", status=429), quiet=True)
    link = link_find(token)
    if link is None:
        return not_found(request)  # the attempt taken above stays counted: a miss
    token_found(request)
    if link.state != "active":
        sent = None
        if request.method == "POST" and link.state == "expired":
            link_refresh_request(token=token, email=request.POST.get("email", ""))
            sent = True  # the same answer whether or not the address matched
        return gone_page(request, link, quiet=True, sent=sent)
    if request.method == "POST":
        return protect(redirect("buyer:room"), quiet=True)
    buyer_session_start(request, link)
    response = redirect("buyer:room")
    response.status_code = 303
    return protect(response, quiet=True)


@require_POST
def leave(request):
    buyer_session_end(request)
    return protect(render(request, "buyer/left.html"))
