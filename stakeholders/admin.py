from django.contrib import admin

from rooms.admin import RoomWriteAdmin

from . import services
from .models import Stakeholder


@admin.register(Stakeholder)
class StakeholderAdmin(RoomWriteAdmin):
    """Edits go through the stakeholder services, like the stakeholder map's."""

    list_display = ("name", "room", "side", "role", "track", "approval_authority")
    list_filter = ("side", "role", "track")
    search_fields = ("name", "email")

    def create(self, *, actor, room, obj, form):
        fields = {n: v for n, v in _own_fields(form).items() if n != "name"}
        return services.stakeholder_create(actor=actor, room=room, name=obj.name, **fields)

    def update(self, *, actor, room, obj, changes, m2m):
        services.stakeholder_update(
            actor=actor, room=room, stakeholder_id=obj.pk, base_version=obj.version, changes=changes
        )

    def delete(self, *, actor, room, obj):
        services.stakeholder_delete(actor=actor, room=room, stakeholder_id=obj.pk)


def _own_fields(form):
    """The form's values other than the row's tenant and room (the services set them)."""
    return {n: v for n, v in form.cleaned_data.items() if n not in {"org", "room"}}
