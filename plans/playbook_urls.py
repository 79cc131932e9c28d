"""The organisation's plan templates (/templates/)."""

from django.urls import path

from .views import playbooks as views

app_name = "playbooks"
urlpatterns = [
    path("", views.playbook_list, name="list"),
    path("new/", views.playbook_new, name="new"),
    path("<uuid:pk>/", views.playbook_edit, name="edit"),
    path("<uuid:pk>/delete/", views.playbook_delete, name="delete"),
]
