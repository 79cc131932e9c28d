"""Exchanging a member's email and password for an API token."""

from django.contrib.auth import authenticate
from django.utils import timezone
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
)
from rest_framework import status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from accounts.services import api_token_create
from accounts.throttle import sign_in_attempt, sign_in_succeeded

from .. import serializers as s
from ..throttling import SignInRateThrottle

# --- sign-in -------------------------------------------------------------------------------


class TokenView(APIView):
    """Exchange an email and password for a new API token (named, listed on the API
    tokens page, revocable there)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [SignInRateThrottle]

    @extend_schema(
        tags=["auth"],
        request=s.TokenRequestSerializer,
        responses={
            201: s.TokenResponseSerializer,
            400: OpenApiResponse(description="Refused"),
            429: OpenApiResponse(description="Too many sign-ins; see Retry-After"),
        },
        auth=[],
    )
    def post(self, request):
        serializer = s.TokenRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The sign-in page's limits hold here too: per email and per client address.
        if wait := sign_in_attempt(request, data["email"]):
            raise Throttled(wait=wait, detail="Too many failed sign-ins; try again later.")
        user = authenticate(request._request, username=data["email"], password=data["password"])
        if user is None:  # the attempt taken above stays counted
            raise ValidationError({"non_field_errors": ["Wrong email or password."]})
        sign_in_succeeded(request, user.email)
        memberships = Membership.objects.filter(user=user).select_related("org")
        if "organization" in data:
            memberships = memberships.filter(org_id=data["organization"])
        membership = memberships.order_by("created_at", "pk").first()
        if membership is None:
            raise ValidationError({"organization": ["You are not a member of that organisation."]})
        name = data.get("name") or f"Signed in {timezone.now():%Y-%m-%d %H:%M}"
        token, raw = api_token_create(membership=membership, name=name)
        response = Response(
            {"token": raw, "organization": str(membership.org_id)}, status=status.HTTP_201_CREATED
        )
        response["Cache-Control"] = "no-store"
        return response
