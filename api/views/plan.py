"""A room's milestones and tasks through the API."""

from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from plans.models import Milestone, Plan, Task, TaskStatus
from plans.services import (
    milestone_create,
    milestone_delete,
    milestone_update,
    plan_start,
    task_create,
    task_delete,
    task_update,
)

from .. import serializers as s
from ..concurrency import locked_at_version
from .base import IF_MATCH, ROOM_FILTER, VersionedViewSet, uuid_param

# --- milestones ------------------------------------------------------------------------


def _milestones_of(org_id, room, ids):
    if ids is None:
        return None
    found = list(Milestone.objects.filter(org_id=org_id, room=room, pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"depends_on": ["Pick milestones of the same room."]})
    return found


@extend_schema(tags=["plan"])
@extend_schema_view(list=extend_schema(parameters=[ROOM_FILTER]))
class MilestoneViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Milestone
    serializer_class = s.MilestoneSerializer
    list_filters = ("room",)

    def extend_queryset(self, queryset):
        queryset = queryset.prefetch_related("depends_on")
        if self.action == "list":
            queryset = self.filter_room(queryset)
        return queryset.order_by("room_id", "order", "created_at")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        room = data.pop("room")
        depends_on = data.pop("depends_on", None)
        with transaction.atomic():
            plan = Plan.objects.for_room(room).first()
            if plan is None:  # the first milestone of a room starts its (empty) plan
                plan = plan_start(actor=self.actor, room=room, template_slug="empty")
            milestone = milestone_create(
                actor=self.actor, room=room, plan=plan, title=data.pop("title"), **data
            )
            if depends_on:
                milestone_update(
                    actor=self.actor,
                    room=room,
                    milestone_id=milestone.pk,
                    base_version=milestone.version,
                    changes={},
                    depends_on=_milestones_of(self.org_id, room, depends_on),
                )
        return self.answer(milestone, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        milestone, version, data = self.checked_change()
        data = dict(data)
        depends_on = data.pop("depends_on", None)
        room = milestone.room
        with transaction.atomic():
            locked_at_version(self.lockable(), milestone.pk, version)
            milestone_update(
                actor=self.actor,
                room=room,
                milestone_id=milestone.pk,
                base_version=version,
                changes=data,
                depends_on=_milestones_of(self.org_id, room, depends_on),
            )
        return self.answer(milestone)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        milestone, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), milestone.pk, version)
            milestone_delete(actor=self.actor, room=milestone.room, milestone_id=milestone.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- tasks -----------------------------------------------------------------------------


@extend_schema(tags=["plan"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            ROOM_FILTER,
            OpenApiParameter("milestone", OpenApiTypes.UUID, description="Only this milestone's."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=TaskStatus.values),
            OpenApiParameter(
                "overdue",
                OpenApiTypes.STR,
                enum=["true", "false"],
                description="Open and past their due date in the room's timezone.",
            ),
        ]
    )
)
class TaskViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Task
    serializer_class = s.TaskSerializer
    list_filters = ("room", "milestone", "status", "overdue")

    def extend_queryset(self, queryset):
        queryset = queryset.select_related("room", "owner")
        if self.action == "list":
            queryset = self.filter_room(queryset)
            milestone_id = uuid_param(self.request, "milestone")
            if milestone_id:
                queryset = queryset.filter(milestone_id=milestone_id)
            wanted = self.request.query_params.get("status")
            if wanted is not None:
                if wanted not in TaskStatus.values:
                    raise ValidationError({"status": [f"One of {', '.join(TaskStatus.values)}."]})
                queryset = queryset.filter(status=wanted)
            overdue = self.request.query_params.get("overdue")
            if overdue is not None:
                if overdue not in ("true", "false"):
                    raise ValidationError({"overdue": ["true or false."]})
                queryset = queryset.overdue(late=overdue == "true")
        return queryset.order_by("room_id", "milestone__order", "order", "created_at")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("room", None)
        milestone = data.pop("milestone")
        task = task_create(
            actor=self.actor,
            room=milestone.room,
            milestone=milestone,
            title=data.pop("title"),
            **data,
        )
        return self.answer(task, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        task, version, data = self.checked_change()
        with transaction.atomic():
            locked_at_version(self.lockable(), task.pk, version)
            task_update(
                actor=self.actor,
                room=task.room,
                task_id=task.pk,
                base_version=version,
                changes=dict(data),
            )
        return self.answer(task)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        task, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), task.pk, version)
            task_delete(actor=self.actor, room=task.room, task_id=task.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
