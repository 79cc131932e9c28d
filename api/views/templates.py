"""Plan templates through the API: the built-ins and the organisation's own, listed
(read only: templates are written on the templates page, by admins and managers)."""

from drf_spectacular.utils import extend_schema
from rest_framework import mixins

from plans.models import Playbook
from plans.playbook_format import PlaybookError
from plans.templates_builtin import BUILTIN_TEMPLATES

from .. import serializers as s
from .base import OrgViewSet


@extend_schema(tags=["templates"])
class TemplateViewSet(mixins.ListModelMixin, OrgViewSet):
    """The templates a room's plan can start from: the built-ins first, then the
    organisation's own by name. A room created with ``"template"`` set to a row's
    ``template`` starts its plan from it."""

    model = Playbook
    serializer_class = s.TemplateSerializer
    http_method_names = ["get", "head", "options"]

    def list(self, request, *args, **kwargs):
        rows = [s.TemplateSerializer.of_built_in(spec) for spec in BUILTIN_TEMPLATES.values()]
        for playbook in self.get_queryset():
            try:
                rows.append(s.TemplateSerializer.of_playbook(playbook))
            except PlaybookError:  # needs fixing on the templates page: nothing to start from
                continue
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)
