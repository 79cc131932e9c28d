"""Forms of the sign-up, sign-in, team and invitation pages, and the new-password forms."""

from django import forms
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import password_validation
from django.contrib.auth.forms import AuthenticationForm

from .models import Membership, Role, User

EMAIL_TAKEN = "An account with this email already exists — sign in or reset your password."


def _email_field(**kwargs):
    return forms.EmailField(
        label="Email",
        max_length=254,
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        **kwargs,
    )


def _new_password_field(label="Password"):
    return forms.CharField(
        label=label,
        strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=password_validation.password_validators_help_text_html(),
    )


def _name_field(label="Your name"):
    return forms.CharField(
        label=label,
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
    )


def _validate_new_password(form, field, *, email, name):
    """Run Django's password validators against the would-be user."""
    password = form.cleaned_data.get(field)
    if not password:
        return
    try:
        password_validation.validate_password(password, User(email=email or "", name=name or ""))
    except forms.ValidationError as error:
        form.add_error(field, error)


class SignupForm(forms.Form):
    """A new organisation and its first admin."""

    name = _name_field()
    email = _email_field()
    password = _new_password_field()
    org_name = forms.CharField(
        label="Organisation name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": "Enter the name of your organisation."},
        help_text="Your company or team, as buyers will see it.",
    )

    email_taken = False

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            self.email_taken = True
            raise forms.ValidationError(EMAIL_TAKEN, code="email_taken")
        return email

    def clean_org_name(self):
        name = self.cleaned_data["org_name"].strip()
        if not name:
            raise forms.ValidationError("Enter the name of your organisation.", code="required")
        return name

    def clean(self):
        cleaned = super().clean()
        _validate_new_password(
            self, "password", email=cleaned.get("email"), name=cleaned.get("name")
        )
        return cleaned


class EmailAuthenticationForm(AuthenticationForm):
    """Django's sign-in form, with an email field (matched case-insensitively)."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": (
            "That email and password don't match an account. Passwords are case-sensitive."
        ),
    }

    def __init__(self, request=None, *args, **kwargs):
        super().__init__(request, *args, **kwargs)
        field = self.fields["username"]
        field.label = "Email"
        field.widget.input_type = "email"
        field.widget.attrs.update({"autocomplete": "email", "autofocus": True})

    def clean_username(self):
        return (self.cleaned_data.get("username") or "").strip()


class InviteForm(forms.Form):
    email = _email_field()
    role = forms.ChoiceField(label="Role", choices=Role.choices, initial=Role.REP)

    def __init__(self, *args, membership, **kwargs):
        super().__init__(*args, **kwargs)
        self.membership = membership
        self.fields["email"].widget.attrs["autocomplete"] = "off"
        if not membership.is_admin:
            # Managers invite reps and managers; only admins make admins.
            self.fields["role"].choices = [
                (value, label) for value, label in Role.choices if value != Role.ADMIN
            ]

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        already = Membership.objects.filter(
            org_id=self.membership.org_id, user__email__iexact=email
        ).exists()
        if already:
            raise forms.ValidationError(
                "This person is already a member of your organisation.", code="member"
            )
        return email


class RoleForm(forms.Form):
    role = forms.ChoiceField(label="Role", choices=Role.choices)


class AcceptInvitationForm(forms.Form):
    """A new account for an invited person: the email comes from the invitation."""

    name = _name_field()
    password = _new_password_field("Choose a password")

    def __init__(self, *args, email, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self):
        cleaned = super().clean()
        _validate_new_password(self, "password", email=self.email, name=cleaned.get("name"))
        return cleaned


class OrganizationForm(forms.Form):
    name = forms.CharField(
        label="Organisation name",
        max_length=120,
        widget=forms.TextInput(attrs={"autocomplete": "organization"}),
        error_messages={"required": "Enter the name of your organisation."},
    )

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Enter the name of your organisation.", code="required")
        return name


# --- new passwords -----------------------------------------------------------------------


class NewPasswordThroughService:
    """Django's password forms, saved through ``accounts.services.user_password_set``:
    the user's API tokens are revoked and their other sessions ended. The form keeps
    the outcome (``outcome``) for the page that follows; ``keep_session_key`` names the
    session to leave open (the browser that made the change)."""

    keep_session_key = None
    outcome = None

    def set_password_and_save(self, user, password_field_name="password1", commit=True):
        from . import services

        usable = self.cleaned_data.get("set_usable_password", True)
        self.outcome = services.user_password_set(
            user=user,
            password=self.cleaned_data[password_field_name] if usable else None,
            keep_session_key=self.keep_session_key,
        )
        return user


class PasswordChangeForm(NewPasswordThroughService, auth_forms.PasswordChangeForm):
    pass


class SetPasswordForm(NewPasswordThroughService, auth_forms.SetPasswordForm):
    pass


class AdminPasswordChangeForm(NewPasswordThroughService, auth_forms.AdminPasswordChangeForm):
    pass
