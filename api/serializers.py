"""What the API reads and writes. Serializers only check shapes and scope; every write
goes through the same services as the pages (see views.py)."""

import datetime

from django.conf import settings
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plans.models import Milestone, Task
from plans.templates_builtin import BUILTIN_TEMPLATES
from rooms.models import Outcome, Room, clean_currency, go_live_problem
from stakeholders.models import AccessLink, Stakeholder, clean_person_name
from webhooks.models import Delivery, Endpoint, EventType

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)
TEMPLATE_CHOICES = ["empty", *BUILTIN_TEMPLATES]


def plausible_date(value):
    if value is not None and not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError("Enter a date between 2000-01-01 and 2100-12-31.")


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know or that cannot be written (400, nothing written)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            errors = {}
            for key in data:
                if key in writable:
                    continue
                errors[key] = [
                    "This field is read-only." if key in self.fields else "Unknown field."
                ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
    }

    def build_standard_field(self, field_name, model_field):
        cls, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(cls, serializers.DateField):
            kwargs.setdefault("validators", []).append(plausible_date)
        return cls, kwargs


def uuid_related(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.UUIDField(format="hex_verbose"), **kwargs
    )


def _org_id(serializer):
    request = serializer.context.get("request")
    return request.auth.org_id if request is not None and request.auth is not None else None


# --- rooms ---------------------------------------------------------------------------


class RoomSerializer(StrictModelSerializer):
    id = serializers.CharField(read_only=True)
    owner = serializers.SerializerMethodField()
    outcome = serializers.ChoiceField(
        choices=[Outcome.OPEN, Outcome.WON, Outcome.LOST, Outcome.HANDED_OVER],
        required=False,
        help_text="open, won or lost (lost needs outcome_reason); handed_over is read-only.",
    )
    outcome_reason = serializers.CharField(
        max_length=500,
        required=False,
        allow_blank=True,
        help_text="Why the deal was won or lost (required with outcome=lost).",
    )
    template = serializers.ChoiceField(
        choices=TEMPLATE_CHOICES,
        write_only=True,
        required=False,
        help_text="On create only: start the plan from this built-in template "
        "(or 'empty'). Without it the room has no plan yet.",
    )
    has_plan = serializers.SerializerMethodField()

    class Meta:
        model = Room
        fields = [
            "id",
            "name",
            "buyer_company",
            "value",
            "currency",
            "stage",
            "outcome",
            "outcome_reason",
            "closed_at",
            "owner",
            "target_close_date",
            "close_reason",
            "go_live_date",
            "goal",
            "timezone",
            "created_at",
            "version",
            "has_plan",
            "template",
        ]
        read_only_fields = ["closed_at", "created_at", "version"]

    @extend_schema_field(OpenApiTypes.STR)
    def get_owner(self, room) -> str | None:
        return str(room.owner_id) if room.owner_id else None

    def get_has_plan(self, room) -> bool:
        return hasattr(room, "plan")

    def validate_currency(self, value):
        return clean_currency(value)

    def validate(self, attrs):
        instance = self.instance
        close = attrs.get("target_close_date", getattr(instance, "target_close_date", None))
        live = attrs.get("go_live_date", getattr(instance, "go_live_date", None))
        problem = go_live_problem(close, live)
        if problem:
            raise serializers.ValidationError({"go_live_date": [problem]})
        if instance is not None and "template" in attrs:
            raise serializers.ValidationError({"template": ["Only when creating a room."]})
        outcome = attrs.get("outcome")
        if outcome == Outcome.HANDED_OVER:
            raise serializers.ValidationError({"outcome": ["Set open, won or lost."]})
        if instance is None and outcome not in (None, Outcome.OPEN):
            raise serializers.ValidationError({"outcome": ["A new room is open."]})
        if "outcome_reason" in attrs and outcome not in (Outcome.WON, Outcome.LOST):
            raise serializers.ValidationError(
                {"outcome_reason": ["Give the reason together with outcome won or lost."]}
            )
        return attrs


class IdListField(serializers.ListField):
    """Ids in, ids out (of a many-to-many relation, read from its prefetched rows)."""

    def to_representation(self, data):
        return [str(obj.pk) for obj in data.all()]


# --- plan ----------------------------------------------------------------------------


class MilestoneSerializer(StrictModelSerializer):
    id = serializers.CharField(read_only=True)
    room = uuid_related(Room.objects.none())
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

    def get_fields(self):
        fields = super().get_fields()
        fields["room"].queryset = Room.objects.filter(org_id=_org_id(self))
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["room"].read_only = True
        return fields

    def validate_depends_on(self, value):
        return list(dict.fromkeys(value))


class TaskSerializer(StrictModelSerializer):
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

    def get_fields(self):
        fields = super().get_fields()
        org_id = _org_id(self)
        fields["room"].queryset = Room.objects.filter(org_id=org_id)
        fields["milestone"].queryset = Milestone.objects.filter(org_id=org_id)
        fields["owner"].queryset = Stakeholder.objects.filter(org_id=org_id)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["room"].read_only = True
        return fields

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


# --- stakeholders and links ----------------------------------------------------------


class StakeholderSerializer(StrictModelSerializer):
    id = serializers.CharField(read_only=True)
    room = uuid_related(Room.objects.none())

    class Meta:
        model = Stakeholder
        fields = [
            "id",
            "room",
            "name",
            "email",
            "title",
            "side",
            "role",
            "influence",
            "approval_authority",
            "track",
            "scope",
            "version",
        ]
        read_only_fields = ["version"]

    def validate_name(self, value):
        return clean_person_name(value)

    def get_fields(self):
        fields = super().get_fields()
        fields["room"].queryset = Room.objects.filter(org_id=_org_id(self))
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["room"].read_only = True
        return fields


class LinkSerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    stakeholder = serializers.CharField(source="stakeholder_id", read_only=True)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = AccessLink
        fields = [
            "id",
            "stakeholder",
            "created_at",
            "expires_at",
            "revoked_at",
            "last_used_at",
            "state",
        ]
        read_only_fields = fields


class LinkIssueSerializer(StrictSerializer):
    days = serializers.IntegerField(
        min_value=1,
        max_value=365,
        required=False,
        help_text=f"How long the link works (default {settings.BUYER_LINK_TTL_DAYS} days).",
    )
    revoke_others = serializers.BooleanField(required=False, default=False)


class IssuedLinkSerializer(serializers.Serializer):
    id = serializers.CharField()
    url = serializers.CharField(help_text="The personal link; shown this once.")
    expires_at = serializers.DateTimeField()


# --- MAP signals ---------------------------------------------------------------------


class BlockerSerializer(serializers.Serializer):
    task = serializers.CharField(help_text="The task's id.")
    title = serializers.CharField(help_text="The task's title.")
    owner = serializers.CharField(allow_null=True, help_text="Its owner's stakeholder id.")
    owner_name = serializers.CharField(allow_null=True, help_text="Its owner's name.")
    due_date = serializers.DateField(allow_null=True, help_text="The task's due date.")


class SignalsSerializer(serializers.Serializer):
    """The MAP signals a CRM reads (plans.health.room_signals)."""

    has_map = serializers.BooleanField(help_text="The room's plan was started.")
    last_buyer_interaction_at = serializers.DateTimeField(
        allow_null=True, help_text="When anyone on the buyer's side last opened or changed it."
    )
    buyer_milestones_completed = serializers.IntegerField()
    buyer_milestones_total = serializers.IntegerField()
    current_blocker = BlockerSerializer(
        allow_null=True, help_text="The earliest overdue or blocked open task, or null."
    )
    days_since_last_milestone_completion = serializers.IntegerField(allow_null=True)
    health_score = serializers.IntegerField(help_text="0–100; docs/DASHBOARD.md explains it.")
    projected_close_date = serializers.DateField(
        allow_null=True,
        help_text="When the plan's last milestone is projected to finish (see schedule/).",
    )
    slip_days = serializers.IntegerField(
        help_text="Days the projected close lies past the target close date (0: on time)."
    )
    last_check_in_at = serializers.DateTimeField(
        allow_null=True, help_text="When the last weekly check-in was finished, or null."
    )

    @staticmethod
    def of(signals, room):
        blocker = signals.current_blocker
        owner = blocker.owner if blocker is not None and blocker.owner_id else None
        return {
            "has_map": signals.has_map,
            "last_buyer_interaction_at": signals.last_buyer_interaction_at,
            "buyer_milestones_completed": signals.buyer_milestones_completed,
            "buyer_milestones_total": signals.buyer_milestones_total,
            "current_blocker": None
            if blocker is None
            else {
                "task": str(blocker.pk),
                "title": blocker.title,
                "owner": str(blocker.owner_id) if blocker.owner_id else None,
                "owner_name": owner.name if owner is not None else None,
                "due_date": blocker.due_date,
            },
            "days_since_last_milestone_completion": signals.days_since_last_milestone_completion,
            "health_score": signals.health_score,
            "projected_close_date": room.projected_close_date,
            "slip_days": room.slip_days,
            "last_check_in_at": signals.last_check_in_at,
        }


# --- the plan as a schedule ----------------------------------------------------------


class ScheduledMilestoneSerializer(serializers.Serializer):
    id = serializers.CharField()
    target_date = serializers.DateField(allow_null=True, help_text="Its own date.")
    projected_date = serializers.DateField(
        allow_null=True, help_text="When it is projected to finish (done: when it was)."
    )
    slack_days = serializers.IntegerField(
        allow_null=True,
        help_text="Days it can slip before the projected close moves (null: undated).",
    )
    critical = serializers.BooleanField(help_text="On the critical path.")


class ScheduledTaskSerializer(serializers.Serializer):
    id = serializers.CharField()
    due_date = serializers.DateField(allow_null=True)
    projected_date = serializers.DateField(allow_null=True)
    critical = serializers.BooleanField(help_text="On the critical path.")


class ProblemSerializer(serializers.Serializer):
    code = serializers.CharField(
        help_text="date_before_dependency, vague_condition, task_after_milestone, "
        "after_close, in_past, no_owner, no_buyer_tasks or too_many_items."
    )
    target = serializers.CharField(
        allow_null=True, help_text="The milestone's or task's id; null: the plan as a whole."
    )
    message = serializers.CharField()


class ScheduleSerializer(serializers.Serializer):
    """The plan as a schedule (plans.schedule): when it will really finish, what sets
    that date, and what to fix."""

    target_close_date = serializers.DateField(allow_null=True)
    projected_close_date = serializers.DateField(
        allow_null=True, help_text="When the last milestone is projected to finish."
    )
    slip_days = serializers.IntegerField(
        help_text="Days the projected close lies past the target (0: on time)."
    )
    critical_path = serializers.ListField(
        child=serializers.CharField(),
        help_text="Ids of the milestones and tasks that set the projected close, first to last.",
    )
    milestones = ScheduledMilestoneSerializer(many=True)
    tasks = ScheduledTaskSerializer(many=True)
    problems = ProblemSerializer(many=True)

    @staticmethod
    def of(schedule):
        return {
            "target_close_date": schedule.target_close,
            "projected_close_date": schedule.projected_close,
            "slip_days": schedule.slip_days,
            "critical_path": [str(i) for i in schedule.critical_path],
            "milestones": [
                {
                    "id": str(p.item.id),
                    "target_date": p.item.date,
                    "projected_date": p.projected,
                    "slack_days": p.slack_days,
                    "critical": p.critical,
                }
                for p in schedule.milestones()
            ],
            "tasks": [
                {
                    "id": str(p.item.id),
                    "due_date": p.item.date,
                    "projected_date": p.projected,
                    "critical": p.critical,
                }
                for p in schedule.tasks()
            ],
            "problems": [
                {
                    "code": p.code,
                    "target": None if p.target is None else str(p.target),
                    "message": p.message,
                }
                for p in schedule.problems
            ],
        }


class ReplanSerializer(StrictSerializer):
    """The new target close date; every open milestone and task with a date moves by as
    many days as the close date does."""

    target_close_date = serializers.DateField(
        validators=[plausible_date],
        help_text="The new target close date; the open work moves by as many days.",
        error_messages={
            "required": "Give the new target close date (YYYY-MM-DD).",
            "null": "Give the new target close date (YYYY-MM-DD).",
            "invalid": "Give a real date as YYYY-MM-DD.",
        },
    )


# --- sign-in -------------------------------------------------------------------------


class TokenRequestSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=200, trim_whitespace=False)
    organization = serializers.UUIDField(
        required=False, help_text="Which of your organisations (default: your first)."
    )
    name = serializers.CharField(max_length=100, required=False, help_text="The token's name.")


class TokenResponseSerializer(serializers.Serializer):
    token = serializers.CharField()
    organization = serializers.CharField()


# --- webhooks ------------------------------------------------------------------------


class EndpointSerializer(StrictModelSerializer):
    id = serializers.CharField(read_only=True)
    url = serializers.CharField(max_length=500, help_text="https:// URL that receives events.")
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=EventType.choices),
        min_length=1,
        max_length=len(EventType.values),
    )
    description = serializers.CharField(max_length=200, required=False, allow_blank=True)
    secret = serializers.SerializerMethodField(
        help_text="Signs every delivery; returned only in the response that creates it."
    )

    class Meta:
        model = Endpoint
        fields = ["id", "url", "events", "description", "created_at", "secret"]
        read_only_fields = ["created_at"]

    @extend_schema_field({"type": "string", "nullable": True})
    def get_secret(self, endpoint):
        return getattr(endpoint, "raw_secret", None)


class DeliverySerializer(serializers.ModelSerializer):
    id = serializers.CharField(read_only=True)
    endpoint = serializers.CharField(source="endpoint_id", read_only=True)
    room = serializers.CharField(source="room_id", read_only=True, allow_null=True)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "endpoint",
            "event_id",
            "event_type",
            "event_time",
            "room",
            "status",
            "attempts",
            "response_code",
            "last_error",
            "delivered_at",
            "created_at",
        ]
        read_only_fields = fields
