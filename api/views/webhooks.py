"""The organisation's webhook endpoints and their deliveries through the API (admins)."""

from drf_spectacular.utils import (
    extend_schema,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from webhooks.models import Delivery, Endpoint
from webhooks.services import WebhookError, endpoint_create, endpoint_delete

from .. import serializers as s
from ..permissions import IsOrgAdmin
from .base import OrgViewSet

# --- webhooks ----------------------------------------------------------------------------


@extend_schema(tags=["webhooks"])
class EndpointViewSet(
    mixins.CreateModelMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    OrgViewSet,
):
    """The organisation's webhook endpoints (admins)."""

    model = Endpoint
    permission_classes = [IsOrgAdmin]
    serializer_class = s.EndpointSerializer

    def extend_queryset(self, queryset):
        return queryset.order_by("created_at", "pk")

    def get_serializer_class(self):
        if self.action == "deliveries":
            return s.DeliverySerializer
        return super().get_serializer_class()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            endpoint, secret = endpoint_create(
                membership=self.membership, **serializer.validated_data
            )
        except WebhookError as exc:
            raise ValidationError({"url": [str(exc)]}) from None
        endpoint.raw_secret = secret
        response = Response(self.get_serializer(endpoint).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response

    def destroy(self, request, *args, **kwargs):
        endpoint = self.get_object()
        endpoint_delete(membership=self.membership, endpoint_id=endpoint.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Recent deliveries to this endpoint", responses=s.DeliverySerializer(many=True)
    )
    @action(detail=True, methods=["get"], url_path="deliveries")
    def deliveries(self, request, pk=None):
        endpoint = self.get_object()
        rows = self.org_rows(Delivery).filter(endpoint=endpoint).order_by("-created_at", "pk")
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(s.DeliverySerializer(page, many=True).data)
