from django.urls import path

from . import buyer_views as views

app_name = "buyer_documents"
urlpatterns = [
    path("", views.section, name="section"),
    path("upload/", views.upload, name="upload"),
    path("<uuid:pk>/", views.download, name="download"),
]
