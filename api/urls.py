from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from . import docs, views

# Paths with converters: ids are UUIDs (the schema says so; anything else is a 404).
router = SimpleRouter(use_regex_path=False)
router.register("rooms", views.RoomViewSet, basename="room")
router.register("milestones", views.MilestoneViewSet, basename="milestone")
router.register("tasks", views.TaskViewSet, basename="task")
router.register("stakeholders", views.StakeholderViewSet, basename="stakeholder")
router.register("links", views.LinkViewSet, basename="link")
router.register("webhooks", views.EndpointViewSet, basename="webhook")
router.register("templates", views.TemplateViewSet, basename="template")

app_name = "api"
urlpatterns = [
    path("auth/token/", views.TokenView.as_view(), name="token"),
    path(
        "schema/",
        SpectacularAPIView.as_view(authentication_classes=[], permission_classes=[]),
        name="schema",
    ),
    path("docs/", docs.reference, name="docs"),
    *router.urls,
    re_path(r"", views.not_found),
]
