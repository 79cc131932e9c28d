from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from .models import Stakeholder


@admin.register(Stakeholder)
class StakeholderAdmin(RoomWriteAdmin):
    list_display = ("name", "room", "side", "role", "track", "approval_authority")
    list_filter = ("side", "role", "track")
    search_fields = ("name", "email")
