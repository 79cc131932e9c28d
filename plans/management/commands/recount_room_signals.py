"""Recount the signal columns every room carries (task counts, blocker, approvers,
overdue counts, projected close and slip) from its rows. The services keep them
current; run this once after upgrading to a version that adds such columns, or to
repair them."""

from django.core.management.base import BaseCommand

from plans.services import plan_changed, room_overdue_recount
from rooms.models import Room
from stakeholders.services import room_people_recount

BATCH = 500


class Command(BaseCommand):
    help = "Recount every room's dashboard signals from its plan, people and views."

    def handle(self, *args, **options):
        ids = list(Room.objects.order_by("pk").values_list("pk", flat=True))
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            plan_changed(batch)
            room_overdue_recount(batch)
            room_people_recount(batch)
        self.stdout.write(f"Recounted {len(ids)} rooms.")
