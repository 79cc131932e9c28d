"""Accepting an invitation: signed in as the invited user, signed in as someone else,
with an account to sign in to, or as a new user."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from .. import services
from ..forms import AcceptInvitationForm
from ..models import Invitation, Membership, User, hash_token
from ..throttle import TOKEN_GUESSES, client_address, token_found, token_guess_allowed
from .auth import MODEL_BACKEND
from .orgs import _use_org

# Tokens are 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 128


@login_not_required
def invitation_accept(request, token):
    if len(token) > MAX_TOKEN_LENGTH:
        raise Http404("No such invitation.")
    if not token_guess_allowed(request):
        response = render(request, "accounts/invitation_slow_down.html", status=429)
        response["Retry-After"] = str(TOKEN_GUESSES.retry_after(client_address(request)))
        return response
    invitation = get_object_or_404(
        Invitation.objects.select_related("org", "invited_by"), token_hash=hash_token(token)
    )
    token_found(request)  # only invitations that do not exist count against the limit
    user = request.user
    here = request.get_full_path()
    ctx = {"invitation": invitation, "org": invitation.org, "path": here}

    if (
        user.is_authenticated
        and invitation.accepted_by_id == user.pk
        and Membership.objects.filter(org_id=invitation.org_id, user=user).exists()
    ):
        # Already accepted by this very user: just take them there.
        _use_org(request, invitation.org_id)
        return redirect(settings.LOGIN_REDIRECT_URL)

    if not invitation.is_pending:
        if invitation.revoked_at:
            ctx["reason"] = "revoked"
        elif invitation.accepted_at:
            ctx["reason"] = "accepted"
        else:
            ctx["reason"] = "expired"
        return render(request, "accounts/invitation_invalid.html", ctx, status=410)

    if user.is_authenticated:
        if user.email.lower() != invitation.email.lower():
            return render(request, "accounts/invitation_wrong_user.html", ctx, status=403)
        if request.method == "POST":
            return _joined(request, invitation, user)
        return render(request, "accounts/invitation_accept.html", ctx)

    if User.objects.filter(email__iexact=invitation.email).exists():
        ctx["login_url"] = _login_url(here)
        return render(request, "accounts/invitation_sign_in.html", ctx)

    form = AcceptInvitationForm(request.POST or None, email=invitation.email)
    if request.method == "POST" and form.is_valid():
        try:
            new_user, _membership = services.invitation_accept_new_user(
                invitation=invitation,
                name=form.cleaned_data["name"],
                password=form.cleaned_data["password"],
            )
        except services.EmailTaken:
            ctx["login_url"] = _login_url(here)
            return render(request, "accounts/invitation_sign_in.html", ctx)
        except services.InvitationNotPending:
            ctx["reason"] = "accepted"
            return render(request, "accounts/invitation_invalid.html", ctx, status=410)
        login(request, new_user, backend=MODEL_BACKEND)
        _use_org(request, invitation.org_id)
        messages.success(request, f"Welcome to {invitation.org.name}!")
        return redirect(settings.LOGIN_REDIRECT_URL)
    ctx["form"] = form
    return render(request, "accounts/invitation_new_user.html", ctx)


def _login_url(next_path):
    return f"{reverse('accounts:login')}?{urlencode({'next': next_path})}"


def _joined(request, invitation, user):
    try:
        services.invitation_accept(invitation=invitation, user=user)
    except services.InvitationNotPending:
        return render(
            request,
            "accounts/invitation_invalid.html",
            {"invitation": invitation, "org": invitation.org, "reason": "accepted"},
            status=410,
        )
    _use_org(request, invitation.org_id)
    messages.success(request, f"You joined {invitation.org.name}.")
    return redirect(settings.LOGIN_REDIRECT_URL)
