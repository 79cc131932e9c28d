"""Django admin for accounts, and ``OrgScopedAdmin``, the tenant fence for every admin.

Superusers see everything. Any other staff user sees and edits only the rows of the
organisations they are an *admin* of (their Membership role is admin); everything
else is absent from their changelists, their foreign-key choices and their object
pages (Django then redirects to the admin index with "doesn't exist").
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import forms as auth_forms
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db.models import Count
from django.utils import timezone

from mapsite.text import SingleLineFormMixin

from .forms import AdminPasswordChangeForm
from .models import Invitation, Membership, Organization, Role, User

_CACHE_ATTR = "_org_scoped_admin_org_ids"


def admin_org_ids(request):
    """Ids of the organisations the request's user is an admin of (cached per request)."""
    ids = getattr(request, _CACHE_ATTR, None)
    if ids is None:
        user = request.user
        if not user.is_authenticated:
            ids = []
        else:
            ids = list(
                Membership.objects.filter(user=user, role=Role.ADMIN).values_list(
                    "org_id", flat=True
                )
            )
        setattr(request, _CACHE_ATTR, ids)
    return ids


def scope_related_queryset(request, model, queryset):
    """Restrict choices of ``model`` to the rows of the user's admin organisations.

    Organisations themselves, users (members of those organisations) and any model
    with an ``org`` foreign key to Organization are restricted; other models are
    returned unchanged.
    """
    ids = admin_org_ids(request)
    if issubclass(model, Organization):
        return queryset.filter(pk__in=ids)
    if issubclass(model, get_user_model()):
        return queryset.filter(pk__in=Membership.objects.filter(org_id__in=ids).values("user_id"))
    try:
        field = model._meta.get_field("org")
    except FieldDoesNotExist:
        return queryset
    if field.is_relation and issubclass(field.related_model, Organization):
        return queryset.filter(org_id__in=ids)
    return queryset


class SingleLineModelForm(SingleLineFormMixin, forms.ModelForm):
    """The admin's forms: names and titles are one line of text, as in the services
    (mapsite.text)."""


class OrgScopedAdmin:
    """Mixin for a ModelAdmin of a tenant-owned model (put it before ModelAdmin).

    ``org_field`` is the lookup path from the model to its organisation: ``"org"``
    (the default) for a direct foreign key, ``"room__org"`` through a relation,
    ``"id"`` for Organization itself, ``"memberships__org"`` for users. Its form cleans
    single-line text like the services do (a form of its own should keep
    ``SingleLineFormMixin``).
    """

    org_field = "org"
    form = SingleLineModelForm

    def is_unscoped(self, request):
        return request.user.is_active and request.user.is_superuser

    def scope_queryset(self, request, queryset):
        """``queryset`` limited to the user's admin organisations (no duplicates)."""
        if self.is_unscoped(request):
            return queryset
        lookup = {f"{self.org_field}__in": admin_org_ids(request)}
        if "__" in self.org_field:
            # A path through a to-many relation could repeat rows: filter by pk instead.
            return queryset.filter(pk__in=self.model._default_manager.filter(**lookup).values("pk"))
        return queryset.filter(**lookup)

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def in_scope(self, request, obj):
        if obj is None or self.is_unscoped(request):
            return True
        if obj.pk is None:
            return False
        return self.scope_queryset(request, self.model._default_manager.filter(pk=obj.pk)).exists()

    def _scoped_choices(self, db_field, request, kwargs):
        if self.is_unscoped(request):
            return kwargs
        queryset = kwargs.get("queryset")
        if queryset is None:
            queryset = self.get_field_queryset(kwargs.get("using"), db_field, request)
        if queryset is None:
            queryset = db_field.remote_field.model._default_manager.using(kwargs.get("using"))
        kwargs["queryset"] = scope_related_queryset(
            request, db_field.remote_field.model, queryset.all()
        )
        return kwargs

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        kwargs = self._scoped_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self.in_scope(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self.in_scope(request, obj)

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self.in_scope(request, obj)


# --- users ------------------------------------------------------------------------------


def _unique_email(form):
    email = User.objects.normalize_email(form.cleaned_data.get("email") or "").lower()
    taken = User.objects.filter(email__iexact=email)
    if form.instance.pk:
        taken = taken.exclude(pk=form.instance.pk)
    if email and taken.exists():
        raise ValidationError("A user with this email address already exists.")
    return email


class UserCreationForm(SingleLineFormMixin, auth_forms.BaseUserCreationForm):
    """Email, name and the password twice."""

    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self):
        return _unique_email(self)


class UserChangeForm(SingleLineFormMixin, auth_forms.UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return _unique_email(self)


@admin.register(User)
class UserAdmin(OrgScopedAdmin, DjangoUserAdmin):
    """Accounts are global (one person may be in several organisations), so a scoped
    staff user only views the members of their organisations and edits nobody but
    themselves, and never their own privileges."""

    org_field = "memberships__org"
    form = UserChangeForm
    add_form = UserCreationForm
    list_display = ("email", "name", "is_staff")
    list_filter = ("is_staff", "is_superuser", "is_active")
    search_fields = ("email", "name")
    ordering = ("email",)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("name",)}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("email", "name", "password1", "password2")}),
    )
    filter_horizontal = ("groups", "user_permissions")
    # Through accounts.services.user_password_set: tokens revoked, sessions ended.
    change_password_form = AdminPasswordChangeForm

    def construct_change_message(self, request, form, formsets, add=False):
        outcome = getattr(form, "outcome", None)
        if outcome is not None:  # a new password: say what it ended
            messages.info(request, f"{form.user.display_name}: {outcome.summary}")
        return super().construct_change_message(request, form, formsets, add)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if not self.is_unscoped(request):
            readonly += ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]
        return readonly

    def has_add_permission(self, request):
        # Scoped staff bring people in with invitations, from the Team page.
        return self.is_unscoped(request) and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        allowed = super().has_change_permission(request, obj)
        if obj is not None and not self.is_unscoped(request):
            return allowed and obj.pk == request.user.pk
        return allowed

    def has_delete_permission(self, request, obj=None):
        return self.is_unscoped(request) and super().has_delete_permission(request, obj)


# --- organisations, memberships, invitations ---------------------------------------------


@admin.register(Organization)
class OrganizationAdmin(OrgScopedAdmin, admin.ModelAdmin):
    org_field = "id"
    list_display = ("name", "member_count", "created_at", "id")
    search_fields = ("name", "=id")
    readonly_fields = ("id", "created_at")
    ordering = ("name",)

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_members=Count("memberships"))

    @admin.display(description="Members", ordering="_members")
    def member_count(self, obj):
        return obj._members

    def has_add_permission(self, request):
        # A scoped staff user would not be an admin of the new organisation.
        return self.is_unscoped(request) and super().has_add_permission(request)


@admin.register(Membership)
class MembershipAdmin(OrgScopedAdmin, admin.ModelAdmin):
    list_display = ("user", "email", "org", "role", "created_at")
    list_filter = ("role", ("org", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("user", "org")
    search_fields = ("user__email", "user__name", "org__name")
    ordering = ("org__name", "user__email")

    @admin.display(description="Email", ordering="user__email")
    def email(self, obj):
        return obj.user.email


@admin.action(description="Revoke the selected pending invitations")
def revoke_invitations(modeladmin, request, queryset):
    count = queryset.filter(accepted_at__isnull=True, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )
    modeladmin.message_user(request, f"{count} invitation(s) revoked.", messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(OrgScopedAdmin, admin.ModelAdmin):
    list_display = ("email", "org", "role", "status", "invited_by", "created_at", "expires_at")
    list_filter = ("role", ("org", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("org", "invited_by")
    search_fields = ("email", "org__name")
    readonly_fields = (
        "id",
        "org",
        "email",
        "token_hash",
        "invited_by",
        "created_at",
        "accepted_at",
        "accepted_by",
    )
    fields = readonly_fields[:5] + ("role", "expires_at", "revoked_at") + readonly_fields[5:]
    actions = [revoke_invitations]

    @admin.display(description="Status")
    def status(self, obj):
        if obj.accepted_at:
            return "accepted"
        if obj.revoked_at:
            return "revoked"
        if obj.is_expired:
            return "expired"
        return "pending"

    def has_add_permission(self, request):
        # An invitation's link exists only in the email sent from the Team page.
        return False
