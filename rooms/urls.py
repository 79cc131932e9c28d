from django.urls import path

from . import views

app_name = "rooms"
urlpatterns = [
    path("", views.room_list, name="list"),
    path("new/", views.room_new, name="new"),
    path("<uuid:room_id>/details/", views.room_save, name="save"),
    path("<uuid:room_id>/activity/", views.room_activity, name="activity"),
]
