import copy

from django.contrib import admin
from django.db import models

from accounts.admin import OrgScopedAdmin, SingleLineModelForm

from .actors import Actor
from .models import ActivityEvent, Room
from .versioning import close_date_changed, versioned_create, versioned_delete, versioned_update


class SameRoomForm(SingleLineModelForm):
    """Related rows chosen in the admin must belong to the row's own room and tenant;
    names and titles are one line of text (SingleLineModelForm)."""

    def clean(self):
        cleaned = super().clean()
        room, org = cleaned.get("room"), cleaned.get("org")
        if room is not None and org is not None and room.org_id != org.pk:
            self.add_error("room", "This room belongs to another organisation.")
        for name, value in list(cleaned.items()):
            if name in {"room", "org"} or not isinstance(value, models.Model):
                continue
            if room is not None and getattr(value, "room_id", room.pk) != room.pk:
                self.add_error(name, "Pick one from the same room.")
            elif org is not None and getattr(value, "org_id", org.pk) != org.pk:
                self.add_error(name, "Pick one from the same organisation.")
        # The domain's rules, asked the way the write path asks them (shown on the form
        # rather than refused on save).
        if hasattr(self.instance, "write_problems"):
            candidate = copy.copy(self.instance)
            columns = {f.name for f in self._meta.model._meta.concrete_fields}
            for name in self.changed_data:
                if name in columns and name in cleaned:
                    setattr(candidate, name, cleaned[name])
            for name, message in candidate.write_problems(self.changed_data).items():
                self.add_error(name if name in self.fields else None, message)
        return cleaned


class RoomWriteAdmin(OrgScopedAdmin, admin.ModelAdmin):
    """Admin edits of room data take the same write path as the pages: version check,
    room revision, activity log. An entity with a service of its own (a task, a
    milestone) overrides ``create``, ``update`` and ``delete`` to call it, so an admin
    edit has every effect a page edit has."""

    form = SameRoomForm
    readonly_fields = ("version", "created_at", "updated_at")

    def room_of(self, obj):
        return obj if isinstance(obj, Room) else obj.room

    def save_model(self, request, obj, form, change):
        actor = Actor(user=request.user)
        if not change:
            saved = self.create(actor=actor, room=self.room_of(obj), obj=obj, form=form)
            obj.pk = saved.pk  # the admin goes on from the object it passed in
            return
        names = [n for n in form.changed_data if n not in self.m2m_names()]
        changes = {n: form.cleaned_data[n] for n in names}
        m2m = {n: form.cleaned_data[n] for n in form.changed_data if n in self.m2m_names()}
        if changes or m2m:
            self.update(actor=actor, room=self.room_of(obj), obj=obj, changes=changes, m2m=m2m)

    def create(self, *, actor, room, obj, form):
        return versioned_create(actor=actor, room=room, instance=obj)

    def update(self, *, actor, room, obj, changes, m2m):
        """``m2m``: the many-to-many fields the form changed (saved by the admin after
        this, unless ``save_related`` is told otherwise)."""
        if changes:
            versioned_update(
                actor=actor,
                room=room,
                queryset=type(obj).objects.all(),
                pk=obj.pk,
                base_version=obj.version,
                changes=changes,
            )

    def m2m_names(self):
        return {f.name for f in self.model._meta.many_to_many}

    def delete_model(self, request, obj):
        self.delete(actor=Actor(user=request.user), room=self.room_of(obj), obj=obj)

    def delete(self, *, actor, room, obj):
        versioned_delete(actor=actor, room=room, queryset=type(obj).objects.all(), pk=obj.pk)

    def delete_queryset(self, request, queryset):
        for obj in queryset:
            self.delete_model(request, obj)


@admin.register(Room)
class RoomAdmin(RoomWriteAdmin):
    list_display = (
        "name",
        "buyer_company",
        "org",
        "owner",
        "stage",
        "outcome",
        "target_close_date",
    )
    list_filter = ("stage", "outcome")
    search_fields = ("name", "buyer_company")
    readonly_fields = ("revision", "version", "created_at", "updated_at")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "target_close_date" in form.changed_data:
            close_date_changed.send(sender=Room, room_ids=[obj.pk])


@admin.register(ActivityEvent)
class ActivityEventAdmin(OrgScopedAdmin, admin.ModelAdmin):
    """The log is a record: it is read, never edited."""

    list_display = ("created_at", "room", "actor_label", "verb", "target_type", "target_label")
    list_filter = ("verb", "target_type", "actor_kind")
    search_fields = ("actor_label", "target_label")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
