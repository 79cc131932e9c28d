"""Django admin for alerts: fenced per organisation, notifications read-only but retryable."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from accounts.models import Role
from alerts import delivery
from alerts.models import AlertSettings, Notification, Status
from tests.conftest import INTERNAL_URLS
from tests.factories import MembershipFactory, UserFactory

from .conftest import make_notification

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(org):
    user = UserFactory(email="staff@northwind.example", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="alerts"))
    MembershipFactory(org=org, user=user, role=Role.ADMIN)
    client = Client()
    client.force_login(user)
    return client


def test_staff_sees_only_their_orgs_notifications(staff_client, org, other_org):
    make_notification(org, recipient_label="Ours", status=Status.FAILED)
    make_notification(other_org, recipient_label="Theirs", status=Status.FAILED)

    html = staff_client.get(reverse("admin:alerts_notification_changelist")).content.decode()

    assert "Ours" in html and "Theirs" not in html


def test_notifications_cannot_be_added_edited_or_deleted(staff_client, org):
    n = make_notification(org)

    assert staff_client.get(reverse("admin:alerts_notification_add")).status_code == 403
    response = staff_client.get(reverse("admin:alerts_notification_change", args=[n.pk]))
    assert "status" not in response.context["adminform"].form.fields
    assert (
        staff_client.get(reverse("admin:alerts_notification_delete", args=[n.pk])).status_code
        == 403
    )


def test_another_orgs_notification_is_out_of_reach(staff_client, other_org):
    n = make_notification(other_org)

    response = staff_client.get(reverse("admin:alerts_notification_change", args=[n.pk]))

    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_retry_action(
    staff_client, org, other_org, slack_settings, slack_stub, django_capture_on_commit_callbacks
):
    failed = make_notification(org, status=Status.FAILED, attempts=6, last_error="HTTP 500")
    sent = make_notification(org, status=Status.SENT, attempts=1)
    theirs = make_notification(other_org, status=Status.FAILED, attempts=6)

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:alerts_notification_changelist"),
            {
                "action": "retry_notifications",
                "_selected_action": [failed.pk, sent.pk, theirs.pk],
            },
        )

    assert response.status_code == 302
    statuses = dict(Notification.objects.values_list("pk", "status"))
    assert statuses == {failed.pk: Status.PENDING, sent.pk: Status.SENT, theirs.pk: Status.FAILED}
    # What the worker and beat run: the retried one goes out, once, with fresh attempts.
    delivery.deliver_due()
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.last_error) == (Status.SENT, 1, "")
    assert len(slack_stub.delivered) == 1


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("http://hooks.example.com/x", "must start with https://"),
        *((url, "This URL is not allowed") for url in INTERNAL_URLS),
    ],
)
def test_alert_settings_admin_validates_the_webhook(staff_client, org, url, message):
    response = staff_client.post(
        reverse("admin:alerts_alertsettings_add"),
        {
            "org": str(org.pk),
            "slack_webhook_url": url,
            "slack_enabled": "on",
            "email_enabled": "on",
            "sender_email": "",
        },
    )

    assert response.status_code == 400
    assert message in response.content.decode()
    assert not AlertSettings.objects.exists()


def test_alert_settings_admin_offers_only_their_org(staff_client, org, other_org):
    response = staff_client.get(reverse("admin:alerts_alertsettings_add"))

    choices = list(response.context["adminform"].form.fields["org"].queryset)
    assert choices == [org]
