from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from .models import DecisionCriterion, Milestone, Plan, Risk, Task
from .services import plan_changed, room_overdue_recount


class RecountingAdmin(RoomWriteAdmin):
    """Admin edits of plans, milestones and tasks keep the room's signals right, like
    the services do."""

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._recount(obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._recount(obj)

    def _recount(self, obj):
        room_overdue_recount([obj.room_id])
        plan_changed([obj.room_id])


@admin.register(Plan)
class PlanAdmin(RecountingAdmin):
    list_display = ("room", "template", "agreed_at", "org")


@admin.register(Milestone)
class MilestoneAdmin(RecountingAdmin):
    list_display = ("title", "room", "target_date", "lead_side", "track")
    search_fields = ("title",)


@admin.register(Task)
class TaskAdmin(RecountingAdmin):
    list_display = ("title", "room", "owner", "due_date", "status")
    list_filter = ("status", "side")
    search_fields = ("title",)


@admin.register(DecisionCriterion)
class DecisionCriterionAdmin(RoomWriteAdmin):
    list_display = ("title", "room")


@admin.register(Risk)
class RiskAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "impact", "owner")
