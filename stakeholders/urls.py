from django.urls import path

from . import views

app_name = "stakeholders"
urlpatterns = [
    path("add/", views.stakeholder_add, name="add"),
    path("<uuid:pk>/", views.stakeholder_save, name="save"),
    path("<uuid:pk>/delete/", views.stakeholder_delete, name="delete"),
]
