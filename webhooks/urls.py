from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.webhooks_page, name="settings"),
    path("<uuid:pk>/delete/", views.endpoint_delete_view, name="delete"),
    path("deliveries/<uuid:pk>/resend/", views.resend, name="resend"),
]
