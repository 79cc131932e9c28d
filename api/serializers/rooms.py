"""Rooms through the API: the room itself, its MAP signals, its plan as a schedule and
the re-plan request."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from plans.services import playbook_find
from plans.templates_builtin import BUILTIN_TEMPLATES
from rooms.models import Outcome, Room, clean_currency, go_live_problem

from .base import StrictModelSerializer, StrictSerializer, _org_id, plausible_date

TEMPLATE_CHOICES = ["empty", *BUILTIN_TEMPLATES]


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
    template = serializers.CharField(
        write_only=True,
        required=False,
        max_length=64,
        help_text="On create only: start the plan from this template: a built-in's slug "
        f"({', '.join(TEMPLATE_CHOICES[1:])}), the id or slug of one of the organisation's "
        "own (GET /api/v1/templates/), or 'empty'. Without it the room has no plan yet.",
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

    def validate_template(self, value):
        """What the plan starts from, as ``plan_start`` takes it: a built-in (or "empty")
        by slug, or one of the organisation's own templates."""
        if value in TEMPLATE_CHOICES:
            return {"template_slug": value}
        playbook = playbook_find(_org_id(self), value)
        if playbook is None:
            raise serializers.ValidationError(
                "Unknown template: give 'empty', a built-in's slug or one of your "
                "organisation's templates (GET /api/v1/templates/)."
            )
        return {"playbook": playbook.pk}

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
