from django.urls import path

from . import views

app_name = "buyer_checkins"
urlpatterns = [
    path("", views.buyer_page, name="page"),
]
