from django.urls import path

from . import views
from .live.polls import seller_poll
from .views import playbooks

app_name = "plans"
urlpatterns = [
    path("", views.room_page, name="room"),
    path("live/", seller_poll, name="live"),
    path("plan/start/", views.plan_start, name="start"),
    path("plan/templates/", playbooks.start_choices, name="start_choices"),
    path("plan/preview/", playbooks.start_preview, name="start_preview"),
    path("plan/save-as-template/", playbooks.room_save_as_playbook, name="save_as_template"),
    path("replan/", views.replan, name="replan"),
    path("outcome/", views.outcome_save, name="outcome"),
    path("plan.pdf", views.room_pdf, name="pdf"),
    path("calendar/review.ics", views.review_ics, name="review_ics"),
    path("outcome/handover/", views.handover, name="handover"),
    path("plan/milestones/add/", views.milestone_add, name="milestone_add"),
    path("plan/milestones/<uuid:pk>/", views.milestone_save, name="milestone_save"),
    path("plan/milestones/<uuid:pk>/delete/", views.milestone_delete, name="milestone_delete"),
    path("plan/milestones/<uuid:pk>/move/", views.milestone_move, name="milestone_move"),
    path("plan/milestones/<uuid:pk>/tasks/add/", views.task_add, name="task_add"),
    path("plan/tasks/<uuid:pk>/", views.task_save, name="task_save"),
    path("plan/tasks/<uuid:pk>/delete/", views.task_delete, name="task_delete"),
    path("plan/tasks/<uuid:pk>/move/", views.task_move, name="task_move"),
    path("plan/tasks/<uuid:pk>/comments/", views.comment_add, name="comment_add"),
    path("plan/fix/", views.plan_fix, name="plan_fix"),
]
for kind in ("criterion", "risk"):
    urlpatterns += [
        path(f"plan/{kind}/add/", views.sheet_add, {"kind": kind}, name=f"{kind}_add"),
        path(f"plan/{kind}/<uuid:pk>/", views.sheet_save, {"kind": kind}, name=f"{kind}_save"),
        path(
            f"plan/{kind}/<uuid:pk>/delete/",
            views.sheet_delete,
            {"kind": kind},
            name=f"{kind}_delete",
        ),
    ]
