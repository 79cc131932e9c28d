from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower

from alerts.models import EmailOptOut

from .models import Stakeholder


def people_of(room):
    """The room's stakeholders, each with ``engagement`` (or None), ``has_link`` (a link
    that works now) and ``reminders_stopped`` (they stopped this room's email
    reminders); one query whatever the number of people."""
    return list(
        Stakeholder.objects.for_room(room)
        .with_engagement()
        .with_access()
        .annotate(
            reminders_stopped=Exists(
                EmailOptOut.objects.filter(room_id=room.pk, address=Lower(OuterRef("email")))
            )
        )
    )
