"""A member's API tokens: list (by name and last use), create (shown once), revoke."""

from django.contrib import messages
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from .. import services
from ..membership import member_required
from ..models import ApiToken


def _page(request, *, created=None, error="", name="", status=200):
    tokens = ApiToken.objects.filter(user=request.user, org=request.org).order_by(
        "revoked_at", "-created_at"
    )
    response = render(
        request,
        "accounts/api_tokens.html",
        {"tokens": tokens, "created": created, "error": error, "name": name},
        status=status,
    )
    add_never_cache_headers(response)  # the page may carry a raw token
    return response


# The new token waits in the session for the page that shows it, once (post, redirect,
# get: reloading the page never creates a second token).
CREATED_KEY = "api_token_created"


@require_http_methods(["GET", "POST"])
@member_required
def api_tokens(request):
    if request.method == "GET":
        created = request.session.pop(CREATED_KEY, None)
        if created:
            token = ApiToken.objects.filter(
                pk=created["id"], user=request.user, org_id=request.membership.org_id
            ).first()
            created = {"token": token, "raw": created["raw"]} if token else None
        return _page(request, created=created)
    name = request.POST.get("name", "")
    try:
        token, raw = services.api_token_create(membership=request.membership, name=name)
    except ValueError as exc:
        return _page(request, error=str(exc), name=name, status=422)
    request.session[CREATED_KEY] = {"id": str(token.pk), "raw": raw}
    return redirect("accounts:api_tokens")


@require_POST
@member_required
def api_token_revoke(request, pk):
    try:
        token = services.api_token_revoke(user=request.user, token_id=pk)
    except ApiToken.DoesNotExist:
        from django.http import Http404

        raise Http404("No such token.") from None
    messages.success(request, f"Token “{token.name}” revoked: it no longer opens the API.")
    return redirect("accounts:api_tokens")
