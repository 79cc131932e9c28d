"""Buyer URLs: the personal link and the token-free room it opens."""

from django.urls import path

from stakeholders import buyer_views as entry

from . import buyer_views as views
from .live.polls import buyer_poll

app_name = "buyer"
urlpatterns = [
    path("room/", views.room, name="room"),
    path("room/live/", buyer_poll, name="live"),
    path("room/tasks/<uuid:pk>/", views.task_save, name="task_save"),
    path("room/tasks/<uuid:pk>/edit/", views.task_edit, name="task_edit"),
    path("room/tasks/<uuid:pk>/comments/", views.comment_add, name="comment_add"),
    path("room/tasks/<uuid:pk>/viewed/", views.task_viewed, name="task_viewed"),
    path("room/milestones/<uuid:pk>/tasks/add/", views.task_add, name="task_add"),
    path("room/milestones/add/", views.milestone_add, name="milestone_add"),
    path("room/agree/", views.agree, name="agree"),
    path("room/plan.pdf", views.pdf, name="pdf"),
    path("room/review.ics", views.review_ics, name="review_ics"),
    path("room/calendar-feed/", views.feed_issue, name="feed_issue"),
    path("leave/", entry.leave, name="leave"),
    # Last: anything else under /b/ is a token (checked strictly before any lookup).
    path("<str:token>/", entry.open_link, name="open"),
]
