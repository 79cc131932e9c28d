from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path
from django.views.generic import RedirectView

from alerts.room_views import room_alerts


def healthz(request):
    """Liveness for load balancers and compose: the process answers, nothing more."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    path("", RedirectView.as_view(pattern_name="rooms:list", permanent=False), name="home"),
    path("accounts/", include("accounts.urls")),
    path("rooms/", include("rooms.urls")),
    path("dashboard/", include("dashboard.urls")),
    path("rooms/<uuid:room_id>/", include("plans.urls")),
    path("rooms/<uuid:room_id>/stakeholders/", include("stakeholders.urls")),
    path("rooms/<uuid:room_id>/alerts/", room_alerts, name="room_alerts"),
    path("b/", include("plans.buyer_urls")),
    path("settings/alerts/", include("alerts.urls")),
    path("admin/", admin.site.urls),
]
