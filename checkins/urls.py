from django.urls import path

from . import views

app_name = "checkins"
urlpatterns = [
    path("", views.page, name="page"),
    path("tasks/<uuid:pk>/", views.mark, name="mark"),
    path("finish/", views.finish, name="finish"),
]
