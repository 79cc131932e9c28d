"""Many people editing the same tasks at once: every accepted change is in the database
and the log, every refused one is logged as a conflict, nothing else goes wrong."""

import random
import threading

import pytest
from django.db import connection, connections

from plans.models import Task
from plans.services import task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent
from rooms.versioning import StaleWrite
from tests.factories import MilestoneFactory, PlanFactory, RoomFactory, TaskFactory, UserFactory

THREADS = 10
EDITS = 12
FIELDS = {
    "status": ["not_started", "in_progress", "blocked", "done"],
    "notes": [f"note {i}" for i in range(20)],
    "title": [f"Task title {i}" for i in range(20)],
}


@pytest.mark.django_db(transaction=True)
def test_concurrent_edits_lose_nothing():
    room = RoomFactory()
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    tasks = [TaskFactory(milestone=milestone) for _ in range(3)]
    users = [UserFactory(name=f"Editor {i}") for i in range(THREADS)]
    accepted, refused, errors = [], [], []
    barrier = threading.Barrier(THREADS)

    def work(user, seed):
        rng = random.Random(seed)
        try:
            barrier.wait()
            for _ in range(EDITS):
                task = rng.choice(tasks)
                base = Task.objects.values_list("version", flat=True).get(pk=task.pk)
                field = rng.choice(list(FIELDS))
                value = rng.choice(FIELDS[field])
                try:
                    task_update(
                        actor=Actor(user=user),
                        room=room,
                        task_id=task.pk,
                        base_version=base,
                        changes={field: value},
                    )
                    accepted.append((task.pk, field, value))
                except StaleWrite:
                    refused.append((task.pk, field, value))
        except Exception as exc:  # any other failure (e.g. "database is locked") fails
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work, args=(u, i)) for i, u in enumerate(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)

    assert errors == []
    assert len(accepted) + len(refused) == THREADS * EDITS
    updates = ActivityEvent.objects.filter(verb="updated", target_type="task")
    conflicts = ActivityEvent.objects.filter(verb="conflict", target_type="task")
    assert conflicts.count() == len(refused)
    # Every accepted edit that changed something is in the log (no-ops log nothing).
    assert updates.count() <= len(accepted)
    # The database holds, for each task and field, the last logged value.
    for task in Task.objects.filter(pk__in=[t.pk for t in tasks]):
        events = updates.filter(target_id=str(task.pk)).order_by("target_version")
        assert [e.target_version for e in events] == list(range(2, task.version + 1))
        last = {}
        for event in events:
            for name, change in event.changes.items():
                last[name] = change["to"]
        if "title" in last:
            assert task.title == last["title"]
        if "notes" in last:
            assert task.notes == last["notes"]
        if "status" in last:
            assert task.get_status_display() == last["status"]
    connection.close()
