import pytest

from plans.models import Task
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from rooms.versioning import StaleWrite, versioned_update
from tests.factories import TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def task():
    return TaskFactory(title="Security review", status="not_started")


def update(task, actor, base_version, **changes):
    return versioned_update(
        actor=actor,
        room=task.room,
        queryset=Task.objects.for_room(task.room),
        pk=task.pk,
        base_version=base_version,
        changes=changes,
    )


def test_update_bumps_version_and_room_revision_and_logs_before_after(task):
    actor = Actor(user=UserFactory(name="Sarah Kim"))
    revision = Room.objects.get(pk=task.room_id).revision

    updated = update(task, actor, 1, status="in_progress")

    task.refresh_from_db()
    assert task.status == "in_progress" and task.version == 2 == updated.version
    assert Room.objects.get(pk=task.room_id).revision == revision + 1
    event = ActivityEvent.objects.get(room=task.room, verb="updated")
    assert event.actor_label == "Sarah Kim"
    assert event.changes == {
        "status": {"label": "Status", "from": "Not started", "to": "In progress"}
    }
    assert event.target_version == 2


def test_unchanged_values_write_nothing(task):
    update(task, Actor.system(), 1, status="not_started", title="Security review")
    task.refresh_from_db()
    assert task.version == 1
    assert not ActivityEvent.objects.filter(verb="updated").exists()


def test_stale_writer_of_a_different_field_is_merged(task):
    maria, sarah = Actor(user=UserFactory(name="Maria")), Actor(user=UserFactory(name="Sarah"))
    update(task, maria, 1, status="blocked")
    update(task, sarah, 1, notes="SOC 2 sent")  # read version 1, changed another field

    task.refresh_from_db()
    assert (task.status, task.notes, task.version) == ("blocked", "SOC 2 sent", 3)


def test_stale_writer_of_the_same_field_is_refused_with_the_other_value(task):
    maria, sarah = Actor(user=UserFactory(name="Maria")), Actor(user=UserFactory(name="Sarah"))
    update(task, maria, 1, status="blocked")

    with pytest.raises(StaleWrite) as refused:
        update(task, sarah, 1, status="done")

    clash = refused.value.clashes["status"]
    assert (clash["theirs"], clash["mine"], clash["by"]) == ("Blocked", "Done", "Maria")
    task.refresh_from_db()
    assert task.status == "blocked" and task.version == 2
    # Both attempts are on record: the applied change and the refused one.
    conflict = ActivityEvent.objects.get(verb="conflict")
    assert conflict.actor_label == "Sarah"
    assert conflict.changes["status"] == {"label": "Status", "from": "Blocked", "to": "Done"}


def test_a_row_outside_the_scoped_queryset_does_not_exist(task):
    other = TaskFactory()
    with pytest.raises(Task.DoesNotExist):
        versioned_update(
            actor=Actor.system(),
            room=task.room,
            queryset=Task.objects.for_room(task.room),
            pk=other.pk,
            base_version=1,
            changes={"title": "hijacked"},
        )
    other.refresh_from_db()
    assert other.title != "hijacked"
