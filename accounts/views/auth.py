"""Sign-up, sign-in and sign-out; the refusal page of a throttled form (429)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.shortcuts import redirect, render

from .. import services
from ..forms import EMAIL_TAKEN, EmailAuthenticationForm, SignupForm
from ..throttle import sign_in_attempt, sign_in_succeeded
from .orgs import _use_org

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


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
