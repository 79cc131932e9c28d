"""From the sweep's slim outbox rows to the words that go out: messages are written at
delivery time from the task as it is then, and kept once sent."""

import datetime

import pytest
from django.utils import timezone

from alerts import delivery
from alerts.messages import TASK_DONE, TASK_MOVED
from alerts.models import Notification, Status
from alerts.sweep import sweep_overdue
from plans.services import task_update
from rooms.actors import Actor
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def late_task(room):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan, title="Security review complete")
    owner = StakeholderFactory(room=room, name="Priya Nair", email="Priya@Acme.example")
    due = timezone.now().date() - datetime.timedelta(days=8)
    return TaskFactory(milestone=milestone, title="Review SOC 2", due_date=due, owner=owner)


def test_the_sweep_leaves_the_words_to_delivery_which_keeps_what_it_sent(
    late_task, room, slack_settings, slack_stub, mailoutbox
):
    sweep_overdue()
    rows = Notification.objects.filter(task=late_task)
    assert rows.count() == 3  # +3 Slack, +7 Slack to the owner, +7 email to Priya
    assert all(n.payload == {} and n.due_date == late_task.due_date for n in rows)

    for n in rows:
        assert delivery.deliver(n.pk) == Status.SENT
    email = rows.get(channel="email")
    assert email.recipient == "priya@acme.example"  # one address, lower-cased
    assert "8 days late" in email.payload["text"]
    assert mailoutbox[0].subject == "Overdue: Review SOC 2 (8 days late)"
    assert "Hello Priya Nair" in mailoutbox[0].body
    texts = [r.json["text"] for r in slack_stub.delivered]
    assert len(texts) == 2 and all("Review SOC 2" in t and "8 days overdue" in t for t in texts)


@pytest.mark.parametrize(
    ("change", "reason"),
    [({"status": "done"}, TASK_DONE), ({"due_date": "later"}, TASK_MOVED)],
)
def test_a_task_done_or_moved_before_delivery_is_not_told_about(
    late_task, room, owner, slack_settings, slack_stub, change, reason
):
    sweep_overdue()
    if change.get("due_date") == "later":
        change = {"due_date": timezone.now().date() + datetime.timedelta(days=5)}
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=late_task.pk,
        base_version=late_task.version,
        changes=change,
    )
    for n in Notification.objects.filter(task=late_task):
        assert delivery.deliver(n.pk) == Status.SKIPPED
        n.refresh_from_db()
        assert n.last_error == reason
    assert slack_stub.requests == []
