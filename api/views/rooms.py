"""Deal rooms through the API: list, read, create, change, close and reopen, delete; their
schedule, signals and re-plan."""

from django.db import transaction
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from plans.health import room_signals
from plans.selectors import room_schedule
from plans.services import (
    plan_replan,
    plan_start,
)
from rooms.models import Room
from rooms.services import room_change, room_create, room_delete

from .. import serializers as s
from ..concurrency import locked_at_version
from .base import IF_MATCH, VersionedViewSet

# --- rooms -----------------------------------------------------------------------------


@extend_schema(tags=["rooms"])
class RoomViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Room
    serializer_class = s.RoomSerializer

    def extend_queryset(self, queryset):
        return queryset.select_related("plan")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        template = data.pop("template", None)
        data.pop("outcome", None)
        with transaction.atomic():
            room = room_create(membership=self.membership, actor=self.actor, **data)
            if template is not None:
                plan_start(actor=self.actor, room=room, **template)
        return self.answer(room, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        room, version, data = self.checked_change()
        data = dict(data)
        outcome = data.pop("outcome", None)
        reason = data.pop("outcome_reason", "")
        with transaction.atomic():
            locked_at_version(self.lockable(), room.pk, version)
            room_change(
                actor=self.actor,
                membership=self.membership,
                room_id=room.pk,
                base_version=version,
                changes=data,
                outcome=outcome,
                reason=reason,
            )
        return self.answer(room)

    @extend_schema(responses=s.SignalsSerializer)
    @action(detail=True, methods=["get"], url_path="signals")
    def signals(self, request, pk=None):
        """The room's MAP signals: has a plan, last buyer interaction, buyer-led
        milestones done/total, the current blocker and its owner, days since the last
        milestone was completed, the health score."""
        room = self.get_object()
        body = s.SignalsSerializer.of(room_signals(room), room)
        return Response(s.SignalsSerializer(body).data)

    @extend_schema(summary="The plan as a schedule", responses=s.ScheduleSerializer)
    @action(detail=True, methods=["get"], url_path="schedule")
    def schedule(self, request, pk=None):
        """When the plan will really finish: each milestone's and task's projected date
        (a late open item finishes today at the earliest and pushes what waits for it),
        the projected close and its slip past the target, the critical path (ids, first
        to last), each milestone's slack, and what to fix in the plan."""
        room = self.get_object()
        plan = getattr(room, "plan", None)
        found = room_schedule(room, template=plan.template if plan else "")
        return Response(s.ScheduleSerializer(s.ScheduleSerializer.of(found)).data)

    @extend_schema(
        summary="Move the close date and the plan's open work with it",
        request=s.ReplanSerializer,
        responses={
            200: s.ScheduleSerializer,
            409: OpenApiResponse(
                description="The deal is lost: its room is read-only until it is reopened."
            ),
        },
    )
    @action(detail=True, methods=["post"], url_path="replan")
    def replan(self, request, pk=None):
        """Set the room's target close date and move every open milestone and open task
        that has a date by the same number of days (done work keeps its dates). Each
        moved row's version moves on, so an ETag read before answers 412. One activity
        entry, one revision; moving by 0 days changes nothing. Answers the new schedule."""
        room = self.get_object()
        serializer = s.ReplanSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        found = plan_replan(
            actor=self.actor,
            room=room,
            target_close_date=serializer.validated_data["target_close_date"],
        )
        return Response(s.ScheduleSerializer(s.ScheduleSerializer.of(found)).data)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        room, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), room.pk, version)
            room_delete(actor=self.actor, membership=self.membership, room_id=room.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
