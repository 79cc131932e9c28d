"""What every API view shares: the organisation-scoped viewset every query starts from
(OrgViewSet), versioned reads and writes with ETag and If-Match (VersionedViewSet), and
the answers for unknown paths and malformed ids."""

import uuid

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
)
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rooms.actors import Actor

from ..concurrency import etag_for, if_match_version, require_if_match
from ..permissions import IsOrgMember

IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The ETag you read, e.g. "3". Missing: 428; stale: 412.',
)


ROOM_FILTER = OpenApiParameter("room", OpenApiTypes.UUID, description="Only this room's rows.")


@csrf_exempt
def not_found(request, *args, **kwargs):
    """Any other path under the API: a JSON 404, like every API error."""
    return JsonResponse({"detail": "No such endpoint."}, status=404)


def uuid_param(request, name):
    value = request.query_params.get(name)
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except (ValueError, AttributeError):
        raise ValidationError({name: ["Not a valid id."]}) from None


def with_etag(response, instance):
    response["ETag"] = etag_for(instance)
    return response


class OrgViewSet(viewsets.GenericViewSet):
    """Everything a token reaches is in its organisation: every query of a viewset
    starts from ``org_rows(model)``, the model's rows of the token's organisation.
    A viewset names its ``model`` and narrows or orders with ``extend_queryset``;
    overriding ``get_queryset`` is refused when the class is defined, so no viewset
    can start from all rows."""

    model = None
    permission_classes = [IsOrgMember]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]
    lookup_value_converter = "uuid"
    # Query parameters a list accepts; anything else is refused (a misspelt filter
    # must not quietly return everything).
    list_filters = ()

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        paginated = self.action == "list" or (
            self.action in {"links", "deliveries"} and request.method == "GET"
        )
        allowed = {"page", "page_size", *self.list_filters} if paginated else set()
        if self.action != "list":
            allowed -= set(self.list_filters)
        unknown = sorted(set(request.query_params) - allowed)
        if unknown:
            raise ValidationError({name: ["Unknown query parameter."] for name in unknown})
        repeated = sorted(
            k for k in request.query_params if len(request.query_params.getlist(k)) > 1
        )
        if repeated:
            raise ValidationError({name: ["Give this parameter once."] for name in repeated})

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if "get_queryset" in cls.__dict__:
            raise TypeError(
                f"{cls.__name__} overrides get_queryset: extend_queryset() narrows the "
                "organisation's rows instead"
            )

    def get_queryset(self):
        return self.extend_queryset(self.org_rows(self.model))

    def org_rows(self, model):
        """``model``'s rows in the token's organisation: where every query starts."""
        return model.objects.filter(org_id=self.org_id)

    def extend_queryset(self, queryset):
        """The organisation's rows of ``model``, narrowed, joined or ordered."""
        return queryset

    @property
    def membership(self):
        return self.request.auth.membership

    @property
    def org_id(self):
        return self.request.auth.org_id

    @property
    def actor(self):
        return Actor(user=self.request.user)

    def filter_room(self, queryset):
        room_id = uuid_param(self.request, "room")
        return queryset.filter(room_id=room_id) if room_id else queryset


class VersionedViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    OrgViewSet,
):
    """Reads carry ``ETag: "<version>"``; changes need a matching If-Match."""

    def retrieve(self, request, *args, **kwargs):
        instance = self.get_object()
        return with_etag(Response(self.get_serializer(instance).data), instance)

    def answer(self, instance, code=status.HTTP_200_OK):
        instance = self.get_queryset().get(pk=instance.pk)
        return with_etag(Response(self.get_serializer(instance).data, status=code), instance)

    def checked_change(self, *, partial=True):
        """(instance, If-Match version, validated data) for a change to one row."""
        instance = self.get_object()
        require_if_match(self.request)
        data = None
        if partial is not None:
            serializer = self.get_serializer(instance, data=self.request.data, partial=partial)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        return instance, if_match_version(self.request), data

    def lockable(self):
        return self.org_rows(self.model)
