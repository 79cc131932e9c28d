"""Stakeholders and their buyer links through the API: the person, a link's state,
the request that issues one and the link it answers with."""

from django.conf import settings
from rest_framework import serializers

from stakeholders.models import PERSON_FIELDS, AccessLink, Stakeholder, clean_person_name

from .base import RoomRowSerializer, StrictSerializer


class StakeholderSerializer(RoomRowSerializer):
    id = serializers.CharField(read_only=True)

    class Meta:
        model = Stakeholder
        fields = ["id", "room", *PERSON_FIELDS, "version"]
        read_only_fields = ["version"]

    def validate_name(self, value):
        return clean_person_name(value)


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
