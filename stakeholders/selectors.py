from .access import engagement_for
from .models import AccessLink, Stakeholder


def people_of(room):
    """The room's stakeholders, each with ``engagement`` (or None) and ``latest_link``;
    three queries whatever the number of people."""
    people = list(Stakeholder.objects.for_room(room))
    engagement = engagement_for(room)
    latest = {}
    for link in AccessLink.objects.filter(room=room, org_id=room.org_id):
        latest.setdefault(link.stakeholder_id, link)  # newest first
    for person in people:
        person.engagement = engagement.get(person.pk)
        person.latest_link = latest.get(person.pk)
    return people
