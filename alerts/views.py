"""The organisation's alert settings, for admins: channels, a Slack test, failed sends."""

import logging

from django.contrib import messages
from django.db.models import Count
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.membership import member_required
from accounts.models import Role

from . import delivery
from .delivery import DeliveryError, post_to_slack
from .forms import AlertSettingsForm
from .models import AlertSettings, Notification, Status

log = logging.getLogger(__name__)

ADMINS = [Role.ADMIN]
FAILED_SHOWN = 100


def _settings_of(org):
    return AlertSettings.objects.filter(org=org).first() or AlertSettings(org=org)


def _page(request, form, test_result=None, status=200):
    org = request.org
    failed = Notification.objects.filter(org=org, status=Status.FAILED)
    not_sent = (
        Notification.objects.filter(org=org, status=Status.SKIPPED)
        .values("last_error")
        .annotate(count=Count("pk"))
        .order_by("-count")
    )
    context = {
        "form": form,
        "test_result": test_result,
        "failed": failed.select_related("room", "task").order_by("-created_at", "-pk")[
            :FAILED_SHOWN
        ],
        "failed_count": failed.count(),
        "not_sent": list(not_sent),
    }
    return render(request, "alerts/settings.html", context, status=status)


@member_required(roles=ADMINS)
def alert_settings(request):
    instance = _settings_of(request.org)
    if request.method != "POST":
        return _page(request, AlertSettingsForm(instance=instance))
    form = AlertSettingsForm(request.POST, instance=instance)
    if not form.is_valid():
        return _page(request, form, status=400)
    saved = form.save(commit=False)
    saved.org = request.org
    saved.updated_at = timezone.now()
    saved.save()
    messages.success(request, "Alert settings saved.")
    return redirect("alerts:settings")


@require_POST
@member_required(roles=ADMINS)
def send_test(request):
    """Post a test message to the webhook in the form (or the saved one), now, and say
    what happened on the page. Nothing is saved."""
    instance = _settings_of(request.org)
    saved_url = instance.slack_webhook_url
    form = AlertSettingsForm(request.POST, instance=instance)
    form.is_valid()  # for the typed URL's errors; the other fields do not matter here
    if "slack_webhook_url" in form.errors:
        return _page(
            request,
            form,
            {"ok": False, "message": "Fix the webhook URL first."},
            status=400,
        )
    url = form.cleaned_data.get("slack_webhook_url") or saved_url
    if not url:
        result = {"ok": False, "message": "Enter a Slack webhook URL first."}
        return _page(request, form, result)
    text = (
        f"Test message from mapsite for {request.org.name}, sent by "
        f"{request.user.display_name}: overdue-task alerts will be posted here."
    )
    try:
        post_to_slack(url, text)
    except DeliveryError as exc:
        result = {"ok": False, "message": f"The test message was not delivered. {exc}"}
    except Exception:  # never a 500 for a test button; the log has the details
        log.exception("Slack test message for org %s", request.org.pk)
        result = {
            "ok": False,
            "message": "The test message was not delivered: unexpected error.",
        }
    else:
        result = {"ok": True, "message": "Test message delivered: check the Slack channel."}
    return _page(request, form, result)


@require_POST
@member_required(roles=ADMINS)
def retry(request, pk):
    """A failed (or not sent) notification goes back to the outbox with a fresh set of
    attempts, and is sent as soon as this commits."""
    notification = get_object_or_404(Notification, pk=pk, org=request.org)
    changed = delivery.retry(notification)
    if changed:
        messages.success(
            request, f"Sending again to {notification.recipient_label or notification.recipient}."
        )
    else:
        messages.info(request, "That notification is already queued or sent.")
    return redirect("alerts:settings")
