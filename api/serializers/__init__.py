"""What the API reads and writes, by resource (``rooms``, ``plan``, ``people``,
``webhooks``, ``tokens``, ``templates``), on the strict serializers of ``base``.
Serializers only check shapes and scope; every write goes through the same services as
the pages (see api/views/).

Callers import from here: ``from api import serializers``."""

from .base import (
    IdListField,
    StrictModelSerializer,
    StrictSerializer,
    plausible_date,
    uuid_related,
)
from .people import (
    IssuedLinkSerializer,
    LinkIssueSerializer,
    LinkSerializer,
    StakeholderSerializer,
)
from .plan import MilestoneSerializer, TaskSerializer
from .rooms import (
    TEMPLATE_CHOICES,
    BlockerSerializer,
    ProblemSerializer,
    ReplanSerializer,
    RoomSerializer,
    ScheduledMilestoneSerializer,
    ScheduledTaskSerializer,
    ScheduleSerializer,
    SignalsSerializer,
)
from .templates import TemplateSerializer
from .tokens import TokenRequestSerializer, TokenResponseSerializer
from .webhooks import DeliverySerializer, EndpointSerializer

__all__ = [
    "TEMPLATE_CHOICES",
    "BlockerSerializer",
    "DeliverySerializer",
    "EndpointSerializer",
    "IdListField",
    "IssuedLinkSerializer",
    "LinkIssueSerializer",
    "LinkSerializer",
    "MilestoneSerializer",
    "ProblemSerializer",
    "ReplanSerializer",
    "RoomSerializer",
    "ScheduleSerializer",
    "ScheduledMilestoneSerializer",
    "ScheduledTaskSerializer",
    "SignalsSerializer",
    "StakeholderSerializer",
    "StrictModelSerializer",
    "StrictSerializer",
    "TaskSerializer",
    "TemplateSerializer",
    "TokenRequestSerializer",
    "TokenResponseSerializer",
    "plausible_date",
    "uuid_related",
]
