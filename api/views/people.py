"""Stakeholders and their buyer links through the API."""

from django.db import transaction
from drf_spectacular.utils import (
    extend_schema,
    extend_schema_view,
)
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from stakeholders.links import link_issue, link_revoke, link_url
from stakeholders.models import AccessLink, Stakeholder
from stakeholders.services import stakeholder_create, stakeholder_delete, stakeholder_update

from .. import serializers as s
from ..concurrency import locked_at_version
from .base import IF_MATCH, ROOM_FILTER, OrgViewSet, VersionedViewSet

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
