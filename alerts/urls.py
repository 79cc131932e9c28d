from django.urls import path

from . import views

app_name = "alerts"
urlpatterns = [
    path("", views.alert_settings, name="settings"),
    path("test/", views.send_test, name="test"),
    path("notifications/<int:pk>/retry/", views.retry, name="retry"),
]
