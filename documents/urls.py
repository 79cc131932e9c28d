from django.urls import path

from . import views

app_name = "documents"
urlpatterns = [
    path("", views.section, name="section"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:pk>/", views.download, name="download"),
    path("<uuid:pk>/delete/", views.delete, name="delete"),
]
