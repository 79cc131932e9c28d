from django.urls import path

from . import views

app_name = "stakeholders"
urlpatterns = [
    path("add/", views.stakeholder_add, name="add"),
    path("<uuid:pk>/", views.stakeholder_save, name="save"),
    path("<uuid:pk>/delete/", views.stakeholder_delete, name="delete"),
    path("<uuid:pk>/access/", views.access, name="access"),
    path("<uuid:pk>/access/scope/", views.scope_save, name="scope"),
    path("<uuid:pk>/access/links/", views.link_issue, name="link_issue"),
    path("<uuid:pk>/access/links/<uuid:link_id>/revoke/", views.link_revoke, name="link_revoke"),
    path("<uuid:pk>/access/calendar/", views.feed_issue, name="feed_issue"),
    path("<uuid:pk>/access/calendar/<uuid:feed_id>/revoke/", views.feed_revoke, name="feed_revoke"),
]
