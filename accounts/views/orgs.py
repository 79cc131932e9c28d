"""Which organisation a session works in: switching between one's organisations, and
the page for a user who has none (create one, or see the invitations waiting)."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .. import services
from ..forms import OrganizationForm
from ..membership import SESSION_KEY, current_membership
from ..models import Invitation, Membership


def _use_org(request, org_id):
    """Make ``org_id`` the organisation the session works in."""
    request.session[SESSION_KEY] = str(org_id)
    for attr in ("_membership_cache", "_memberships_cache"):
        if hasattr(request, attr):
            delattr(request, attr)


def _safe_next(request, default):
    """Where to go next: a path of this site that was asked for (``next``), else
    ``default``."""
    target = request.POST.get("next") or request.GET.get("next")
    if (
        target
        and target.startswith("/")
        and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return target
    return default


@require_POST
@login_required
def switch_org(request):
    try:
        org_id = uuid.UUID(str(request.POST.get("org", "")))
    except ValueError:
        raise Http404("No such organisation.") from None
    membership = get_object_or_404(
        Membership.objects.select_related("org"), user=request.user, org_id=org_id
    )
    _use_org(request, membership.org_id)
    return redirect(_safe_next(request, reverse(settings.LOGIN_REDIRECT_URL)))


@login_required
def no_org(request):
    if current_membership(request) is not None:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        org = services.org_create_for_user(user=request.user, name=form.cleaned_data["name"])
        _use_org(request, org.pk)
        messages.success(request, f"{org.name} is ready. You're its admin.")
        return redirect(settings.LOGIN_REDIRECT_URL)
    invitations = (
        Invitation.objects.filter(
            email__iexact=request.user.email,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("org", "invited_by")
        .order_by("-created_at")
    )
    return render(request, "accounts/no_org.html", {"form": form, "invitations": invitations})
