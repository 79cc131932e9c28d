"""The organisation's webhooks, for admins: endpoints (create, shown-once secret,
delete) and recent deliveries with their results, each of which can be resent."""

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.cache import add_never_cache_headers
from django.views.decorators.http import require_http_methods, require_POST

from accounts.membership import member_required
from accounts.models import Role

from . import services
from .models import Delivery, Endpoint, EventType

ADMINS = [Role.ADMIN]
CREATED_KEY = "webhook_endpoint_created"
DELIVERIES_SHOWN = 50


def _page(request, *, created=None, error="", form=None, status=200):
    org_id = request.org.pk
    deliveries = (
        Delivery.objects.filter(org_id=org_id)
        .select_related("endpoint", "room")
        .order_by("-created_at", "pk")[:DELIVERIES_SHOWN]
    )
    response = render(
        request,
        "webhooks/settings.html",
        {
            "endpoints": Endpoint.objects.filter(org_id=org_id).order_by("created_at"),
            "deliveries": deliveries,
            "event_choices": EventType.choices,
            "created": created,
            "error": error,
            "form": form or {"url": "", "events": list(EventType.values), "description": ""},
        },
        status=status,
    )
    add_never_cache_headers(response)  # may carry a secret shown once
    return response


@require_http_methods(["GET", "POST"])
@member_required(roles=ADMINS)
def webhooks_page(request):
    if request.method == "GET":
        created = request.session.pop(CREATED_KEY, None)
        if created:
            endpoint = Endpoint.objects.filter(pk=created["id"], org_id=request.org.pk).first()
            created = {"endpoint": endpoint, "secret": created["secret"]} if endpoint else None
        return _page(request, created=created)
    form = {
        "url": request.POST.get("url", "").strip(),
        "events": request.POST.getlist("events"),
        "description": request.POST.get("description", ""),
    }
    try:
        endpoint, secret = services.endpoint_create(membership=request.membership, **form)
    except services.WebhookError as exc:
        return _page(request, error=str(exc), form=form, status=400)
    # Shown once by the page the redirect leads to (reloading it adds nothing).
    request.session[CREATED_KEY] = {"id": str(endpoint.pk), "secret": secret}
    return redirect("webhooks:settings")


@require_POST
@member_required(roles=ADMINS)
def endpoint_delete_view(request, pk):
    try:
        services.endpoint_delete(membership=request.membership, endpoint_id=pk)
    except Endpoint.DoesNotExist:
        raise Http404("No such endpoint.") from None
    messages.success(request, "Endpoint deleted; it receives nothing from now on.")
    return redirect("webhooks:settings")


@require_POST
@member_required(roles=ADMINS)
def resend(request, pk):
    try:
        changed = services.delivery_resend(membership=request.membership, delivery_id=pk)
    except Delivery.DoesNotExist:
        raise Http404("No such delivery.") from None
    if changed:
        messages.success(request, "Sending it again now.")
    else:
        messages.info(request, "That delivery is already waiting to be sent.")
    return redirect("webhooks:settings")
