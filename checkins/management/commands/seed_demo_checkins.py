"""Last week's check-in of the demo room (run by seed_demo), once: the Acme team and
the seller held their review a week ago, so the room has a check-in to look back on,
its recap in the room's activity, and a "last check-in" on the dashboard."""

import datetime

from django.core.management.base import BaseCommand
from django.utils import timezone

from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.models import Stakeholder

from ...models import CheckIn
from ...services import checkin_finish

DECISIONS = "Security review moves to Thursday; Priya sends the questionnaire answers by Friday."
NOTES = "Maria will bring the CFO to the next review for the business case."


class Command(BaseCommand):
    help = "Record last week's check-in of the demo room (once)."

    def handle(self, *args, **options):
        room = (
            Room.objects.filter(org__name="Northwind Software", buyer_company="Acme Corp")
            .select_related("owner")
            .first()
        )
        if room is None or room.owner is None:
            self.stdout.write("No demo room: nothing to check in.")
            return
        if CheckIn.objects.for_room(room).exists():
            return
        held = timezone.now() - datetime.timedelta(days=7)
        people = Stakeholder.objects.for_room(room).filter(name__in=["Maria Lopez", "Sarah Kim"])
        checkin = checkin_finish(
            actor=Actor(user=room.owner),
            room=room,
            attendee_ids=[p.pk for p in people],
            notes=NOTES,
            decisions=DECISIONS,
            now=held,
        )
        # As it was logged then (the demo's history is back-dated, like the rest of it).
        ActivityEvent.objects.filter(
            room=room, verb=ActivityEvent.Verb.CHECKED_IN, target_id=str(checkin.pk)
        ).update(created_at=held)
        self.stdout.write("Last week's check-in of the demo room recorded.")
