"""The REST API's views. Thin: scope the queryset to the token's organisation, check
the request, call the same services as the pages (activity log, room revision, live
updates, milestone status all follow), answer.

Order of checks on a change: the object must exist in the caller's organisation (else
404), If-Match must be sent (428), the body must be valid (400), and the row, locked,
must still be at that version (412). Nothing is written unless all pass.
"""

import uuid

from django.contrib.auth import authenticate
from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Membership
from accounts.services import api_token_create
from accounts.throttle import sign_in_attempt, sign_in_succeeded
from plans.health import room_signals
from plans.models import Milestone, Plan, Task, TaskStatus
from plans.selectors import room_schedule
from plans.services import (
    milestone_create,
    milestone_delete,
    milestone_update,
    plan_replan,
    plan_start,
    task_create,
    task_delete,
    task_update,
)
from rooms.models import Room
from rooms.services import room_change, room_create, room_delete
from rooms.versioning import Actor
from stakeholders.links import link_issue, link_revoke, link_url
from stakeholders.models import AccessLink, Stakeholder
from stakeholders.services import stakeholder_create, stakeholder_delete, stakeholder_update
from webhooks.models import Delivery, Endpoint
from webhooks.services import WebhookError, endpoint_create, endpoint_delete

from . import serializers as s
from .concurrency import etag_for, if_match_version, locked_at_version, require_if_match
from .permissions import IsOrgAdmin, IsOrgMember
from .throttling import SignInRateThrottle

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
            if template:
                plan_start(actor=self.actor, room=room, template_slug=template)
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


# --- milestones ------------------------------------------------------------------------


def _milestones_of(org_id, room, ids):
    if ids is None:
        return None
    found = list(Milestone.objects.filter(org_id=org_id, room=room, pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({"depends_on": ["Pick milestones of the same room."]})
    return found


@extend_schema(tags=["plan"])
@extend_schema_view(list=extend_schema(parameters=[ROOM_FILTER]))
class MilestoneViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Milestone
    serializer_class = s.MilestoneSerializer
    list_filters = ("room",)

    def extend_queryset(self, queryset):
        queryset = queryset.prefetch_related("depends_on")
        if self.action == "list":
            queryset = self.filter_room(queryset)
        return queryset.order_by("room_id", "order", "created_at")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        room = data.pop("room")
        depends_on = data.pop("depends_on", None)
        with transaction.atomic():
            plan = Plan.objects.for_room(room).first()
            if plan is None:  # the first milestone of a room starts its (empty) plan
                plan = plan_start(actor=self.actor, room=room, template_slug="empty")
            milestone = milestone_create(
                actor=self.actor, room=room, plan=plan, title=data.pop("title"), **data
            )
            if depends_on:
                milestone_update(
                    actor=self.actor,
                    room=room,
                    milestone_id=milestone.pk,
                    base_version=milestone.version,
                    changes={},
                    depends_on=_milestones_of(self.org_id, room, depends_on),
                )
        return self.answer(milestone, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        milestone, version, data = self.checked_change()
        data = dict(data)
        depends_on = data.pop("depends_on", None)
        room = milestone.room
        with transaction.atomic():
            locked_at_version(self.lockable(), milestone.pk, version)
            milestone_update(
                actor=self.actor,
                room=room,
                milestone_id=milestone.pk,
                base_version=version,
                changes=data,
                depends_on=_milestones_of(self.org_id, room, depends_on),
            )
        return self.answer(milestone)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        milestone, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), milestone.pk, version)
            milestone_delete(actor=self.actor, room=milestone.room, milestone_id=milestone.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- tasks -----------------------------------------------------------------------------


@extend_schema(tags=["plan"])
@extend_schema_view(
    list=extend_schema(
        parameters=[
            ROOM_FILTER,
            OpenApiParameter("milestone", OpenApiTypes.UUID, description="Only this milestone's."),
            OpenApiParameter("status", OpenApiTypes.STR, enum=TaskStatus.values),
            OpenApiParameter(
                "overdue",
                OpenApiTypes.STR,
                enum=["true", "false"],
                description="Open and past their due date in the room's timezone.",
            ),
        ]
    )
)
class TaskViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Task
    serializer_class = s.TaskSerializer
    list_filters = ("room", "milestone", "status", "overdue")

    def extend_queryset(self, queryset):
        queryset = queryset.select_related("room", "owner")
        if self.action == "list":
            queryset = self.filter_room(queryset)
            milestone_id = uuid_param(self.request, "milestone")
            if milestone_id:
                queryset = queryset.filter(milestone_id=milestone_id)
            wanted = self.request.query_params.get("status")
            if wanted is not None:
                if wanted not in TaskStatus.values:
                    raise ValidationError({"status": [f"One of {', '.join(TaskStatus.values)}."]})
                queryset = queryset.filter(status=wanted)
            overdue = self.request.query_params.get("overdue")
            if overdue is not None:
                if overdue not in ("true", "false"):
                    raise ValidationError({"overdue": ["true or false."]})
                queryset = queryset.overdue(late=overdue == "true")
        return queryset.order_by("room_id", "milestone__order", "order", "created_at")

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        data.pop("room", None)
        milestone = data.pop("milestone")
        task = task_create(
            actor=self.actor,
            room=milestone.room,
            milestone=milestone,
            title=data.pop("title"),
            **data,
        )
        return self.answer(task, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        task, version, data = self.checked_change()
        with transaction.atomic():
            locked_at_version(self.lockable(), task.pk, version)
            task_update(
                actor=self.actor,
                room=task.room,
                task_id=task.pk,
                base_version=version,
                changes=dict(data),
            )
        return self.answer(task)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        task, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), task.pk, version)
            task_delete(actor=self.actor, room=task.room, task_id=task.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- stakeholders and their links --------------------------------------------------------


@extend_schema(tags=["stakeholders"])
@extend_schema_view(list=extend_schema(parameters=[ROOM_FILTER]))
class StakeholderViewSet(mixins.CreateModelMixin, VersionedViewSet):
    model = Stakeholder
    serializer_class = s.StakeholderSerializer
    list_filters = ("room",)

    def extend_queryset(self, queryset):
        if self.action == "list":
            queryset = self.filter_room(queryset)
        return queryset.order_by("room_id", "side", "name", "created_at")

    def get_serializer_class(self):
        if self.action == "links":
            return s.LinkIssueSerializer if self.request.method == "POST" else s.LinkSerializer
        return super().get_serializer_class()

    def create(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        room = data.pop("room")
        person = stakeholder_create(actor=self.actor, room=room, name=data.pop("name"), **data)
        return self.answer(person, status.HTTP_201_CREATED)

    @extend_schema(parameters=[IF_MATCH])
    def partial_update(self, request, *args, **kwargs):
        person, version, data = self.checked_change()
        with transaction.atomic():
            locked_at_version(self.lockable(), person.pk, version)
            stakeholder_update(
                actor=self.actor,
                room=person.room,
                stakeholder_id=person.pk,
                base_version=version,
                changes=dict(data),
            )
        return self.answer(person)

    @extend_schema(parameters=[IF_MATCH])
    def destroy(self, request, *args, **kwargs):
        person, version, _ = self.checked_change(partial=None)
        with transaction.atomic():
            locked_at_version(self.lockable(), person.pk, version)
            stakeholder_delete(actor=self.actor, room=person.room, stakeholder_id=person.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        methods=["GET"],
        summary="A buyer stakeholder's links (never their tokens)",
        parameters=[],
        responses=s.LinkSerializer(many=True),
    )
    @extend_schema(
        methods=["POST"],
        summary="Issue a personal link (the only time its URL is shown)",
        parameters=[],
        request=s.LinkIssueSerializer,
        responses={201: s.IssuedLinkSerializer},
    )
    @action(detail=True, methods=["get", "post"], url_path="links")
    def links(self, request, pk=None):
        person = self.get_object()
        if request.method == "GET":
            links = (
                self.org_rows(AccessLink).filter(stakeholder=person).order_by("-created_at", "pk")
            )
            page = self.paginate_queryset(links)
            return self.get_paginated_response(s.LinkSerializer(page, many=True).data)
        serializer = s.LinkIssueSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        link, token = link_issue(
            actor=self.actor,
            room=person.room,
            stakeholder=person,
            days=serializer.validated_data.get("days"),
            revoke_others=serializer.validated_data["revoke_others"],
        )
        body = {"id": str(link.pk), "url": link_url(token), "expires_at": link.expires_at}
        response = Response(s.IssuedLinkSerializer(body).data, status=status.HTTP_201_CREATED)
        response["Cache-Control"] = "no-store"
        return response


@extend_schema(tags=["stakeholders"])
class LinkViewSet(mixins.RetrieveModelMixin, mixins.DestroyModelMixin, OrgViewSet):
    """A buyer link: read its state, or revoke it (it answers 410 from then on)."""

    model = AccessLink
    serializer_class = s.LinkSerializer

    def extend_queryset(self, queryset):
        return queryset.select_related("room")

    def destroy(self, request, *args, **kwargs):
        link = self.get_object()
        link_revoke(actor=self.actor, room=link.room, link_id=link.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)


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
