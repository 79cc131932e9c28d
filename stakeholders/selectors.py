from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower

from alerts.models import EmailOptOut

from .access import engagement_for
from .models import AccessLink, Stakeholder


def people_of(room):
    """The room's stakeholders, each with ``engagement`` (or None), ``latest_link`` and
    ``reminders_stopped`` (they stopped this room's email reminders); three queries
    whatever the number of people."""
    people = list(
        Stakeholder.objects.for_room(room).annotate(
            reminders_stopped=Exists(
                EmailOptOut.objects.filter(room_id=room.pk, address=Lower(OuterRef("email")))
            )
        )
    )
    engagement = engagement_for(room)
    latest = {}
    for link in AccessLink.objects.filter(room=room, org_id=room.org_id):
        latest.setdefault(link.stakeholder_id, link)  # newest first
    for person in people:
        person.engagement = engagement.get(person.pk)
        person.latest_link = latest.get(person.pk)
    return people
