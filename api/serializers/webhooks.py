"""Webhooks through the API: endpoints (their secret shown once) and deliveries."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from webhooks.models import Delivery, Endpoint, EventType

from .base import StrictModelSerializer


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
