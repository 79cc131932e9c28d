"""Signing in through the API: the request for a token and the token it answers with."""

from rest_framework import serializers

from .base import StrictSerializer


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
