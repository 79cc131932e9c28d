"""What every API serializer shares: the strict serializers that refuse unknown and
read-only fields, the plausible-date rule, uuid-keyed relations scoped to the token's
organisation, and the list-of-ids field of many-to-many relations."""

import datetime

from rest_framework import serializers

from rooms.models import Room

EARLIEST = datetime.date(2000, 1, 1)
LATEST = datetime.date(2100, 12, 31)


def plausible_date(value):
    if value is not None and not EARLIEST <= value <= LATEST:
        raise serializers.ValidationError("Enter a date between 2000-01-01 and 2100-12-31.")


class StrictSerializer(serializers.Serializer):
    """Refuses fields it does not know or that cannot be written (400, nothing written)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            writable = {name for name, f in self.fields.items() if not f.read_only}
            errors = {}
            for key in data:
                if key in writable:
                    continue
                errors[key] = [
                    "This field is read-only." if key in self.fields else "Unknown field."
                ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class StrictModelSerializer(StrictSerializer, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
    }

    def build_standard_field(self, field_name, model_field):
        cls, kwargs = super().build_standard_field(field_name, model_field)
        if issubclass(cls, serializers.DateField):
            kwargs.setdefault("validators", []).append(plausible_date)
        return cls, kwargs


def uuid_related(queryset, **kwargs):
    return serializers.PrimaryKeyRelatedField(
        queryset=queryset, pk_field=serializers.UUIDField(format="hex_verbose"), **kwargs
    )


def _org_id(serializer):
    request = serializer.context.get("request")
    return request.auth.org_id if request is not None and request.auth is not None else None


class IdListField(serializers.ListField):
    """Ids in, ids out (of a many-to-many relation, read from its prefetched rows)."""

    def to_representation(self, data):
        return [str(obj.pk) for obj in data.all()]


class RoomRowSerializer(StrictModelSerializer):
    """A row of a room: its ``room`` is one of the token's organisation's rooms, named
    when the row is created and never moved; ``org_related`` names the other related
    fields (field -> model) whose choices are the organisation's rows."""

    room = uuid_related(Room.objects.none())
    org_related = {}

    def get_fields(self):
        fields = super().get_fields()
        org_id = _org_id(self)
        fields["room"].queryset = Room.objects.filter(org_id=org_id)
        for name, model in self.org_related.items():
            fields[name].queryset = model.objects.for_org(org_id)
        if self.instance is not None and not isinstance(self.instance, list | tuple):
            fields["room"].read_only = True
        return fields
