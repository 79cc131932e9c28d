from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from alerts import email_views
from alerts.room_views import room_alerts
from plans.feed_views import calendar_feed


def healthz(request):
    """Liveness for load balancers and compose: the process answers, nothing more."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="rooms:list", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("templates/", include("plans.playbook_urls")),
    path("rooms/<uuid:room_id>/", include("plans.urls")),
    path("rooms/<uuid:room_id>/stakeholders/", include("stakeholders.urls")),
    path("rooms/<uuid:room_id>/alerts/", room_alerts, name="room_alerts"),
    path("rooms/<uuid:room_id>/documents/", include("documents.urls")),
    path("rooms/<uuid:room_id>/check-in/", include("checkins.urls")),
    path("b/room/documents/", include("documents.buyer_urls")),
    path("b/room/check-in/", include("checkins.buyer_urls")),
    path("b/email/stop/<str:token>/", email_views.stop_reminders, name="email_stop"),
    path("b/email/new-link/<str:token>/", email_views.ask_new_link, name="email_new_link"),
    path("b/", include("plans.buyer_urls")),
    path("cal/<str:token>.ics", calendar_feed, name="calendar_feed"),
    path("settings/alerts/", include("alerts.urls")),
    path("settings/webhooks/", include("webhooks.urls")),
    path("api/v1/", include("api.urls")),
    path("admin/", admin.site.urls),
]

handler404 = "mapsite.errors.page_not_found"
