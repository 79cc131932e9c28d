"""The REST API's views, by resource (``rooms``, ``plan``, ``people``, ``webhooks``,
``tokens``, ``templates``), on the organisation-scoped viewsets of ``base``; api/urls.py registers
them.

Thin: scope the queryset to the token's organisation, check the request, call the same
services as the pages (activity log, room revision, live updates, milestone status all
follow), answer. Order of checks on a change: the object must exist in the caller's
organisation (else 404), If-Match must be sent (428), the body must be valid (400), and
the row, locked, must still be at that version (412). Nothing is written unless all
pass.
"""

from .base import OrgViewSet, VersionedViewSet, not_found
from .people import LinkViewSet, StakeholderViewSet
from .plan import MilestoneViewSet, TaskViewSet
from .rooms import RoomViewSet
from .templates import TemplateViewSet
from .tokens import TokenView
from .webhooks import EndpointViewSet

__all__ = [
    "EndpointViewSet",
    "LinkViewSet",
    "MilestoneViewSet",
    "OrgViewSet",
    "RoomViewSet",
    "StakeholderViewSet",
    "TaskViewSet",
    "TemplateViewSet",
    "TokenView",
    "VersionedViewSet",
    "not_found",
]
