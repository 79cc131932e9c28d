"""A milestone's status follows its tasks; completing and reopening are logged."""

import pytest

from plans import services
from plans.models import Milestone, MilestoneStatus, TaskStatus
from rooms.actors import Actor
from rooms.models import ActivityEvent
from tests.factories import MilestoneFactory, PlanFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def milestone(room):
    plan = PlanFactory(room=room, org=room.org)
    return MilestoneFactory(plan=plan, title="Security review")


def set_status(room, owner, task, status):
    task.refresh_from_db()
    return services.task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"status": status},
    )


@pytest.mark.parametrize(
    ("total", "done", "started", "expected"),
    [
        (0, 0, 0, MilestoneStatus.NOT_STARTED),
        (2, 0, 0, MilestoneStatus.NOT_STARTED),
        (2, 0, 1, MilestoneStatus.IN_PROGRESS),
        (2, 1, 0, MilestoneStatus.IN_PROGRESS),
        (2, 2, 0, MilestoneStatus.DONE),
    ],
)
def test_status_rule(total, done, started, expected):
    assert services.milestone_status_for(total, done, started) == expected


def test_last_task_done_completes_and_reopening_logs_it(room, owner, milestone):
    first = TaskFactory(milestone=milestone)
    second = TaskFactory(milestone=milestone)
    set_status(room, owner, first, TaskStatus.IN_PROGRESS)
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.IN_PROGRESS

    set_status(room, owner, first, TaskStatus.DONE)
    set_status(room, owner, second, TaskStatus.DONE)
    done = Milestone.objects.get(pk=milestone.pk)
    assert done.status == MilestoneStatus.DONE and done.completed_at is not None
    completed = ActivityEvent.objects.filter(
        room=room, verb=ActivityEvent.Verb.COMPLETED, target_id=str(milestone.pk)
    )
    assert completed.count() == 1

    # A new open task reopens it.
    services.task_create(actor=Actor(user=owner), room=room, milestone=done, title="One more")
    reopened = Milestone.objects.get(pk=milestone.pk)
    assert reopened.status == MilestoneStatus.IN_PROGRESS and reopened.completed_at is None
    assert ActivityEvent.objects.filter(
        room=room, verb=ActivityEvent.Verb.REOPENED, target_id=str(milestone.pk)
    ).exists()


def test_deleting_the_only_open_task_completes_the_milestone(room, owner, milestone):
    done = TaskFactory(milestone=milestone)
    open_task = TaskFactory(milestone=milestone)
    set_status(room, owner, done, TaskStatus.DONE)
    services.task_delete(actor=Actor(user=owner), room=room, task_id=open_task.pk)
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.DONE


def test_a_concurrent_title_edit_still_merges(room, owner, milestone):
    """The status change bumps the milestone's version; an edit of another field made
    from the older version is merged, not refused."""
    stale_version = milestone.version
    task = TaskFactory(milestone=milestone)
    set_status(room, owner, task, TaskStatus.DONE)
    updated = services.milestone_update(
        actor=Actor(user=owner),
        room=room,
        milestone_id=milestone.pk,
        base_version=stale_version,
        changes={"title": "Security review signed off"},
    )
    assert updated.title == "Security review signed off"
    assert updated.status == MilestoneStatus.DONE


def test_a_task_created_done_is_stamped_and_completes_its_milestone(room, owner, milestone):
    task = services.task_create(
        actor=Actor(user=owner), room=room, milestone=milestone, title="Signed", status="done"
    )
    assert task.completed_at is not None
    assert Milestone.objects.get(pk=milestone.pk).status == MilestoneStatus.DONE
