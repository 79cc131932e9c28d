from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from .models import Stakeholder
from .services import people_changed, room_people_recount


@admin.register(Stakeholder)
class StakeholderAdmin(RoomWriteAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        self._recount(obj)

    def delete_model(self, request, obj):
        super().delete_model(request, obj)
        self._recount(obj)

    def _recount(self, obj):
        # Approvers and task sides follow people: keep the room's signals right.
        room_people_recount([obj.room_id])
        people_changed.send(sender=Stakeholder, room_ids=[obj.room_id])

    list_display = ("name", "room", "side", "role", "track", "approval_authority")
    list_filter = ("side", "role", "track")
    search_fields = ("name", "email")
