"""Password reset (by email) and change; the pages after them say how many API tokens
and sessions the new password ended."""

from django.conf import settings
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy

from ..forms import PasswordChangeForm, SetPasswordForm
from ..throttle import PASSWORD_RESET_BY_CLIENT, client_address
from .auth import _too_many, _wait_text


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
