"""Plan templates through the API: the built-ins and the organisation's own, each with
the value a room's ``template`` takes on create and the template itself in the format
of plans/playbook_format.py."""

from rest_framework import serializers

from plans.playbook_format import playbook_dump


class TemplateSerializer(serializers.Serializer):
    id = serializers.UUIDField(
        allow_null=True,
        read_only=True,
        help_text="The organisation's template's id; null for a built-in.",
    )
    template = serializers.CharField(
        read_only=True,
        help_text='What to send as "template" when creating a room: the slug of a built-in, '
        "the id of the organisation's own.",
    )
    kind = serializers.ChoiceField(choices=["built-in", "organisation"], read_only=True)
    slug = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    motion = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    milestone_count = serializers.IntegerField(read_only=True)
    task_count = serializers.IntegerField(read_only=True)
    body = serializers.DictField(
        read_only=True,
        help_text="Milestones and tasks in the template format (offsets in days from the "
        "close date or the start, lead side, track, condition, dependencies, owner roles).",
    )

    @staticmethod
    def of_built_in(spec):
        return TemplateSerializer._row(spec, kind="built-in", id=None, template=spec.slug)

    @staticmethod
    def of_playbook(playbook):
        spec = playbook.spec
        return TemplateSerializer._row(
            spec, kind="organisation", id=playbook.pk, template=str(playbook.pk)
        )

    @staticmethod
    def _row(spec, **extra):
        return {
            "slug": spec.slug,
            "name": spec.name,
            "motion": spec.motion,
            "description": spec.description,
            "milestone_count": len(spec.milestones),
            "task_count": spec.task_count,
            "body": playbook_dump(spec, header=False),
            **extra,
        }
