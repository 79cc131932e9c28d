"""Django admin for alerts, fenced per organisation by ``OrgScopedAdmin``.

Notifications are records of what happened: read-only, except that failed
(or not sent) notifications can be sent again with the "retry" action.
"""

from django.contrib import admin, messages
from django.utils import timezone

from accounts.admin import OrgScopedAdmin

from . import delivery
from .forms import AlertSettingsForm
from .models import AlertSettings, Notification


class AlertSettingsAdminForm(AlertSettingsForm):
    class Meta(AlertSettingsForm.Meta):
        fields = ["org", *AlertSettingsForm.Meta.fields]


@admin.register(AlertSettings)
class AlertSettingsAdmin(OrgScopedAdmin, admin.ModelAdmin):
    form = AlertSettingsAdminForm
    list_display = ("org", "slack_configured", "slack_enabled", "email_enabled", "updated_at")
    list_select_related = ("org",)
    search_fields = ("org__name",)
    readonly_fields = ("updated_at",)

    @admin.display(description="Slack webhook", boolean=True)
    def slack_configured(self, obj):
        return bool(obj.slack_webhook_url)

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        if obj is not None:
            readonly.append("org")  # one row per organisation, for good
        return readonly

    def save_model(self, request, obj, form, change):
        obj.updated_at = timezone.now()
        super().save_model(request, obj, form, change)

    def render_change_form(self, request, context, *args, **kwargs):
        """A refused form (a webhook URL that is not allowed) answers 400, not 200."""
        response = super().render_change_form(request, context, *args, **kwargs)
        if request.method == "POST" and context.get("errors"):
            response.status_code = 400
        return response


class ReadOnlyAdmin(OrgScopedAdmin, admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]


@admin.action(
    description="Retry the selected failed or not sent notifications", permissions=["change"]
)
def retry_notifications(modeladmin, request, queryset):
    count = sum(delivery.retry(n) for n in queryset.select_related(None).only("pk"))
    modeladmin.message_user(
        request, f"{count} notification(s) queued to be sent again.", messages.SUCCESS
    )


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "channel",
        "recipient_label",
        "recipient",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "short_error",
    )
    list_filter = ("status", "channel", "level")
    list_select_related = ("room",)
    search_fields = ("recipient", "recipient_label", "room__name")
    date_hierarchy = "created_at"
    actions = [retry_notifications]

    @admin.display(description="Last error")
    def short_error(self, obj):
        return (obj.last_error[:80] + "…") if len(obj.last_error) > 80 else obj.last_error
