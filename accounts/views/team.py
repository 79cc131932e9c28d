"""The team page: members and their roles, invitations sent and revoked."""

import logging

from django.conf import settings
from django.contrib import messages
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from .. import services
from ..forms import InviteForm, RoleForm
from ..membership import SESSION_KEY, member_required
from ..models import LEADS, Invitation, Membership, Role

log = logging.getLogger(__name__)

MANAGERS = LEADS
ADMINS = [Role.ADMIN]


def _members_context(request, invite_form=None):
    membership = request.membership
    members = (
        Membership.objects.filter(org=request.org)
        .select_related("user")
        .annotate(
            rank=Case(
                When(role=Role.ADMIN, then=Value(0)),
                When(role=Role.MANAGER, then=Value(1)),
                default=Value(2),
                output_field=IntegerField(),
            )
        )
        .order_by("rank", "user__name", "user__email")
    )
    pending = (
        Invitation.objects.filter(
            org=request.org,
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .select_related("invited_by")
        .order_by("-created_at")
    )
    if invite_form is None and membership.can_manage_members:
        invite_form = InviteForm(membership=membership, auto_id="invite_%s")
    admin_count = sum(1 for m in members if m.role == Role.ADMIN)
    return {
        "members": members,
        "pending": pending,
        "invite_form": invite_form,
        "role_choices": Role.choices,
        "is_admin": membership.is_admin,
        "can_invite": membership.can_manage_members,
        "admin_count": admin_count,
        "ttl_days": settings.INVITATION_TTL_DAYS,
    }


@member_required
def members(request):
    return render(request, "accounts/members.html", _members_context(request))


@require_POST
@member_required(roles=MANAGERS)
def invite(request):
    form = InviteForm(request.POST, membership=request.membership, auto_id="invite_%s")
    if not form.is_valid():
        return render(request, "accounts/members.html", _members_context(request, form))
    email, role = form.cleaned_data["email"], form.cleaned_data["role"]
    try:
        _invitation, _token, link = services.invitation_send(
            org=request.org, invited_by=request.user, email=email, role=role
        )
    except Exception:
        log.exception("Could not send the invitation email to %s", email)
        messages.error(
            request,
            f"We couldn't send the invitation email to {email}. Nothing was sent; "
            "please try again in a moment.",
        )
    else:
        messages.success(
            request,
            f"Invitation sent to {email} as {Role(role).label}. "
            f"You can also share this link with them directly: {link}",
        )
    return redirect("accounts:members")


def _member_of_org(request, pk):
    return get_object_or_404(Membership.objects.select_related("user"), pk=pk, org=request.org)


@require_POST
@member_required(roles=ADMINS)
def member_role(request, pk):
    target = _member_of_org(request, pk)
    form = RoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose one of the roles: rep, manager or admin.")
        return redirect("accounts:members")
    role = form.cleaned_data["role"]
    try:
        services.membership_change_role(membership=target, role=role)
    except services.LastAdminError:
        messages.error(
            request,
            f"{target.user.display_name} is the only admin of {request.org.name}. "
            "Make someone else an admin first.",
        )
    else:
        messages.success(request, f"{target.user.display_name} is now {Role(role).label}.")
    return redirect("accounts:members")


@member_required(roles=ADMINS)
def member_remove(request, pk):
    target = _member_of_org(request, pk)
    is_self = target.user_id == request.user.pk
    if request.method == "POST":
        try:
            services.membership_remove(membership=target)
        except services.LastAdminError:
            messages.error(
                request,
                f"{target.user.display_name} is the only admin of {request.org.name} and "
                "can't be removed. Make someone else an admin first.",
            )
            return redirect("accounts:members")
        if is_self:
            request.session.pop(SESSION_KEY, None)
            messages.success(request, f"You left {request.org.name}.")
            return redirect(settings.LOGIN_REDIRECT_URL)
        messages.success(
            request, f"{target.user.display_name} was removed from {request.org.name}."
        )
        return redirect("accounts:members")
    return render(
        request,
        "accounts/member_remove.html",
        {"target": target, "is_self": is_self, "org": request.org},
    )


@require_POST
@member_required(roles=MANAGERS)
def invitation_revoke(request, pk):
    invitation = get_object_or_404(Invitation, pk=pk, org=request.org)
    if invitation.role == Role.ADMIN and not request.membership.is_admin:
        raise Http404("No such invitation.")
    services.invitation_revoke(invitation=invitation)
    messages.success(request, f"The invitation of {invitation.email} was revoked.")
    return redirect("accounts:members")
