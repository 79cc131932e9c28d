"""A room's plan through the API: milestones and their tasks."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plans.models import Milestone, Task
from rooms.models import Room
from stakeholders.models import Stakeholder

from .base import IdListField, RoomRowSerializer, uuid_related


class MilestoneSerializer(RoomRowSerializer):
    id = serializers.CharField(read_only=True)
    depends_on = IdListField(
        child=serializers.UUIDField(format="hex_verbose"),
        required=False,
        max_length=200,
        help_text="Ids of milestones of the same room this one waits for.",
    )

    class Meta:
        model = Milestone
        fields = [
            "id",
            "room",
            "title",
            "order",
            "target_date",
            "lead_side",
            "track",
            "completion_condition",
            "depends_on",
            "status",
            "completed_at",
            "version",
        ]
        read_only_fields = ["order", "status", "completed_at", "version"]

    def validate_depends_on(self, value):
        return list(dict.fromkeys(value))


class TaskSerializer(RoomRowSerializer):
    org_related = {"milestone": Milestone, "owner": Stakeholder}
    id = serializers.CharField(read_only=True)
    room = uuid_related(
        Room.objects.none(),
        required=False,
        help_text="Optional on create: must be the milestone's room.",
    )
    milestone = uuid_related(Milestone.objects.none())
    owner = uuid_related(
        Stakeholder.objects.none(),
        allow_null=True,
        required=False,
        help_text="A stakeholder of the same room, or null.",
    )
    overdue_days = serializers.SerializerMethodField()
    flag = serializers.SerializerMethodField()
    side = serializers.SerializerMethodField()

    class Meta:
        model = Task
        fields = [
            "id",
            "room",
            "milestone",
            "title",
            "owner",
            "side",
            "due_date",
            "status",
            "notes",
            "evidence",
            "completed_at",
            "version",
            "overdue_days",
            "flag",
        ]
        read_only_fields = ["completed_at", "version"]

    @extend_schema_field({"type": "string", "enum": ["buyer", "seller"]})
    def get_side(self, task):
        return task.effective_side

    def get_overdue_days(self, task) -> int:
        return task.days_overdue(task.room.today())

    @extend_schema_field({"type": "string", "enum": ["none", "flagged", "alerted"]})
    def get_flag(self, task):
        return task.overdue_flag or "none"

    def validate(self, attrs):
        instance = self.instance
        milestone = attrs.get("milestone", getattr(instance, "milestone", None))
        room = attrs.get("room") or (milestone.room if milestone else None)
        if instance is not None:
            room = instance.room
        if milestone is not None and room is not None and milestone.room_id != room.pk:
            raise serializers.ValidationError(
                {"milestone": ["Pick a milestone of the task's room."]}
            )
        owner = attrs.get("owner")
        if owner is not None and room is not None and owner.room_id != room.pk:
            raise serializers.ValidationError({"owner": ["Pick a person from the task's room."]})
        return attrs
