"""Sign-up, sign-in, password reset, the team page, invitations and org switching."""

import logging
import uuid

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login, logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required, login_required
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse, reverse_lazy
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST

from . import services
from .forms import (
    EMAIL_TAKEN,
    AcceptInvitationForm,
    EmailAuthenticationForm,
    InviteForm,
    OrganizationForm,
    PasswordChangeForm,
    RoleForm,
    SetPasswordForm,
    SignupForm,
)
from .membership import SESSION_KEY, current_membership, member_required
from .models import Invitation, Membership, Role, User, hash_token
from .throttle import (
    PASSWORD_RESET_BY_CLIENT,
    TOKEN_GUESSES,
    client_address,
    sign_in_attempt,
    sign_in_succeeded,
    token_found,
    token_guess_allowed,
)

log = logging.getLogger(__name__)

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"
MANAGERS = [Role.ADMIN, Role.MANAGER]
ADMINS = [Role.ADMIN]
# Tokens are 43 characters; anything much longer is not one of ours.
MAX_TOKEN_LENGTH = 128


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


# --- sign-up, sign-in, sign-out -----------------------------------------------------


@login_not_required
def signup(request):
    if request.user.is_authenticated:
        return redirect(settings.LOGIN_REDIRECT_URL)
    form = SignupForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            org, user = services.org_create(
                name=data["org_name"],
                email=data["email"],
                password=data["password"],
                user_name=data["name"],
            )
        except services.EmailTaken:
            form.email_taken = True
            form.add_error("email", EMAIL_TAKEN)
        else:
            login(request, user, backend=MODEL_BACKEND)
            _use_org(request, org.pk)
            messages.success(request, f"Welcome to mapsite — {org.name} is ready.")
            return redirect(settings.LOGIN_REDIRECT_URL)
    return render(request, "accounts/signup.html", {"form": form})


def _wait_text(seconds):
    minutes = max(1, round(seconds / 60))
    return f"{minutes} minute{'' if minutes == 1 else 's'}"


def _too_many(view, request, message, retry_after, form):
    """The page again, unsent, with why (429 and Retry-After)."""
    response = view.render_to_response(view.get_context_data(form=form, refused=message))
    response.status_code = 429
    response["Retry-After"] = str(retry_after)
    return response


class LoginView(auth_views.LoginView):
    """Sign-in; wrong passwords are counted per email and per client address (in the
    shared cache), and past the limit the form is refused for the rest of the window
    without checking the password."""

    template_name = "accounts/login.html"
    authentication_form = EmailAuthenticationForm
    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        email = (request.POST.get("username") or "").strip()
        wait = sign_in_attempt(request, email)
        if wait:
            form = self.authentication_form(request, initial={"username": email})
            return _too_many(
                self,
                request,
                f"Too many failed sign-ins. Try again in {_wait_text(wait)}, or reset your "
                "password.",
                wait,
                form,
            )
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        # A wrong password keeps the attempt taken in post(); the right one gives it back.
        sign_in_succeeded(self.request, form.get_user().email)
        return super().form_valid(form)


class LogoutView(auth_views.LogoutView):
    """POST only (Django refuses GET with 405)."""


# --- password reset and change --------------------------------------------------------


class PasswordResetView(auth_views.PasswordResetView):
    template_name = "registration/password_reset_form.html"
    email_template_name = "registration/password_reset_email.html"
    subject_template_name = "registration/password_reset_subject.txt"
    success_url = reverse_lazy("accounts:password_reset_done")

    def post(self, request, *args, **kwargs):
        # Each request sends an email: counted per client address, whatever the address
        # asked for (the answer never tells whether an account exists).
        address = client_address(request)
        if not PASSWORD_RESET_BY_CLIENT.attempt(address):
            wait = PASSWORD_RESET_BY_CLIENT.retry_after(address)
            return _too_many(
                self,
                request,
                f"Too many reset requests from here. Try again in {_wait_text(wait)}.",
                wait,
                self.form_class(),
            )
        return super().post(request, *args, **kwargs)

    def form_invalid(self, form):
        # No email is sent for an invalid address: the attempt taken in post() goes back.
        PASSWORD_RESET_BY_CLIENT.give_back(client_address(self.request))
        return super().form_invalid(form)

    def form_valid(self, form):
        # Links in emails are built from SITE_URL, never from the request's Host.
        self.extra_email_context = {"site_url": settings.SITE_URL}
        return super().form_valid(form)


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "registration/password_reset_done.html"


# How many API tokens a new password revoked, for the page that follows.
PASSWORD_OUTCOME_KEY = "password_set_outcome"


def _keep_outcome(request, outcome):
    request.session[PASSWORD_OUTCOME_KEY] = {
        "tokens_revoked": outcome.tokens_revoked,
        "sessions_ended": outcome.sessions_ended,
    }


class _ShowsOutcome:
    def get_context_data(self, **kwargs):
        return super().get_context_data(
            outcome=self.request.session.pop(PASSWORD_OUTCOME_KEY, None), **kwargs
        )


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    """A reset ends every session of the user (this browser's too, if it was signed in
    as them) and revokes their API tokens (accounts.services.user_password_set)."""

    template_name = "registration/password_reset_confirm.html"
    success_url = reverse_lazy("accounts:password_reset_complete")
    form_class = SetPasswordForm

    def form_valid(self, form):
        response = super().form_valid(form)
        user = self.request.user
        if user.is_authenticated and user.pk == form.user.pk:
            logout(self.request)  # its session was ended with the others
        _keep_outcome(self.request, form.outcome)
        return response


class PasswordResetCompleteView(_ShowsOutcome, auth_views.PasswordResetCompleteView):
    template_name = "registration/password_reset_complete.html"


class PasswordChangeView(auth_views.PasswordChangeView):
    """The browser that changes the password stays signed in; every other session of
    the user ends and their API tokens are revoked."""

    template_name = "registration/password_change_form.html"
    success_url = reverse_lazy("accounts:password_change_done")
    form_class = PasswordChangeForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.keep_session_key = self.request.session.session_key
        return form

    def form_valid(self, form):
        response = super().form_valid(form)
        _keep_outcome(self.request, form.outcome)
        return response


class PasswordChangeDoneView(_ShowsOutcome, auth_views.PasswordChangeDoneView):
    template_name = "registration/password_change_done.html"


# --- the team page --------------------------------------------------------------------


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


# --- accepting an invitation -----------------------------------------------------------


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


# --- organisations ----------------------------------------------------------------------


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
