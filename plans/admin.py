"""The plan's rows in the admin: every edit goes through the plan services, so it has
the effects a page edit has (a task marked done is stamped and moves its milestone, a
moved date clears overdue flags, the room's signals are recounted)."""

from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from . import services
from .models import DecisionCriterion, Milestone, Plan, Risk, Task


def _fields(form, *, leave=()):
    """The form's values but the row's tenant, room and plan (the services set them)."""
    skip = {"org", "room", "plan", *leave}
    return {n: v for n, v in form.cleaned_data.items() if n not in skip}


@admin.register(Plan)
class PlanAdmin(RoomWriteAdmin):
    list_display = ("room", "template", "agreed_at", "org")

    def update(self, *, actor, room, obj, changes, m2m):
        super().update(actor=actor, room=room, obj=obj, changes=changes, m2m=m2m)
        services.plan_changed([room.pk])


@admin.register(Milestone)
class MilestoneAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "target_date", "lead_side", "track")
    search_fields = ("title",)

    def create(self, *, actor, room, obj, form):
        milestone = services.milestone_create(
            actor=actor,
            room=room,
            plan=obj.plan,
            title=obj.title,
            **_fields(form, leave={"title", "depends_on", "order"}),
        )
        depends_on = form.cleaned_data.get("depends_on")
        if depends_on:
            services.milestone_update(
                actor=actor,
                room=room,
                milestone_id=milestone.pk,
                base_version=milestone.version,
                changes={},
                depends_on=depends_on,
            )
        return milestone

    def update(self, *, actor, room, obj, changes, m2m):
        services.milestone_update(
            actor=actor,
            room=room,
            milestone_id=obj.pk,
            base_version=obj.version,
            changes=changes,
            depends_on=m2m.get("depends_on"),
        )

    def save_related(self, request, form, formsets, change):
        # The dependencies were written by the service (checked for cycles, logged).
        form.save_m2m = lambda: None
        super().save_related(request, form, formsets, change)

    def delete(self, *, actor, room, obj):
        services.milestone_delete(actor=actor, room=room, milestone_id=obj.pk)


@admin.register(Task)
class TaskAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "owner", "due_date", "status")
    list_filter = ("status", "side")
    search_fields = ("title",)

    def create(self, *, actor, room, obj, form):
        fields = _fields(form, leave={"milestone", "title", "owner", "due_date", "order"})
        return services.task_create(
            actor=actor,
            room=room,
            milestone=obj.milestone,
            title=obj.title,
            owner=obj.owner,
            due_date=obj.due_date,
            **fields,
        )

    def update(self, *, actor, room, obj, changes, m2m):
        services.task_update(
            actor=actor, room=room, task_id=obj.pk, base_version=obj.version, changes=changes
        )

    def delete(self, *, actor, room, obj):
        services.task_delete(actor=actor, room=room, task_id=obj.pk)


@admin.register(DecisionCriterion)
class DecisionCriterionAdmin(RoomWriteAdmin):
    list_display = ("title", "room")

    def create(self, *, actor, room, obj, form):
        return services.criterion_create(
            actor=actor, room=room, plan=obj.plan, title=obj.title, notes=obj.notes
        )

    def update(self, *, actor, room, obj, changes, m2m):
        services.criterion_update(
            actor=actor, room=room, criterion_id=obj.pk, base_version=obj.version, changes=changes
        )

    def delete(self, *, actor, room, obj):
        services.criterion_delete(actor=actor, room=room, criterion_id=obj.pk)


@admin.register(Risk)
class RiskAdmin(RoomWriteAdmin):
    list_display = ("title", "room", "impact", "owner")

    def create(self, *, actor, room, obj, form):
        fields = _fields(form, leave={"title", "order"})
        return services.risk_create(
            actor=actor, room=room, plan=obj.plan, title=obj.title, **fields
        )

    def update(self, *, actor, room, obj, changes, m2m):
        services.risk_update(
            actor=actor, room=room, risk_id=obj.pk, base_version=obj.version, changes=changes
        )

    def delete(self, *, actor, room, obj):
        services.risk_delete(actor=actor, room=room, risk_id=obj.pk)
