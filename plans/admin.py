from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from .models import DecisionCriterion, Milestone, Plan, Risk, Task


@admin.register(Plan)
class PlanAdmin(RoomWriteAdmin):
    list_display = ("room", "template", "agreed_at", "org")


@admin.register(Milestone)
class MilestoneAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "target_date", "lead_side", "track")
    search_fields = ("title",)


@admin.register(Task)
class TaskAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "owner", "due_date", "status")
    list_filter = ("status", "side")
    search_fields = ("title",)


@admin.register(DecisionCriterion)
class DecisionCriterionAdmin(RoomWriteAdmin):
    list_display = ("title", "room")


@admin.register(Risk)
class RiskAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "impact", "owner")
