"""Webhooks end to end: events from the activity log, delivered signed to a real local
receiver that fails on purpose first, retried with backoff, each once per endpoint."""

import datetime
import uuid

import pytest
from django.utils import timezone

from plans.models import MilestoneStatus, Task, TaskStatus
from plans.services import plan_agree, task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, ActorKind
from rooms.services import room_close
from stakeholders.links import BuyerAccess, link_issue, view_record
from stakeholders.models import ViewEvent
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory
from webhooks import delivery as webhook_delivery
from webhooks.models import Delivery, DeliveryStatus, EventType
from webhooks.services import dispatch, endpoint_create

pytestmark = pytest.mark.django_db
# When the late tasks were planned (the sweep never flags work created already late).
PLANNED = timezone.now() - datetime.timedelta(days=60)


@pytest.fixture
def plan(room):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan, room=room, org=room.org)
    buyer = StakeholderFactory(room=room)
    task = TaskFactory(milestone=milestone, owner=buyer)
    return {"plan": plan, "milestone": milestone, "task": task, "buyer": buyer}


def complete(task, actor):
    return task_update(
        actor=actor,
        room=task.room,
        task_id=task.pk,
        base_version=task.version,
        changes={"status": TaskStatus.DONE},
    )


def due_now():
    Delivery.objects.filter(status=DeliveryStatus.PENDING).update(next_attempt_at=timezone.now())


def test_a_completed_task_is_delivered_signed_after_a_failure_and_only_once(
    endpoint, receiver, plan, owner, org, room
):
    receiver.script(500)
    complete(plan["task"], Actor(user=owner))
    assert dispatch() == 2  # task.completed and milestone.completed (its only task)
    first = webhook_delivery.deliver_due()
    assert first == {"pending": 1, "deferred": 1}  # the endpoint failed: rest waits
    failed = Delivery.objects.get(status=DeliveryStatus.PENDING, attempts=1)
    assert failed.response_code == 500
    assert failed.last_error == "The endpoint answered HTTP 500"  # not its body ("nope")
    assert failed.next_attempt_at > timezone.now()  # backoff

    assert webhook_delivery.deliver_due() == {}  # not due yet: nothing sent
    due_now()
    assert webhook_delivery.deliver_due() == {"delivered": 2}
    assert dispatch() == 0  # already there: not twice
    due_now()
    assert webhook_delivery.deliver_due() == {}

    assert all(r.verified for r in receiver.requests)
    assert [r.status for r in receiver.requests] == [500, 200, 200]
    types = sorted(r.json["type"] for r in receiver.accepted)
    assert types == ["milestone.completed", "task.completed"]
    done = next(r.json for r in receiver.accepted if r.json["type"] == "task.completed")
    assert set(done) == {"id", "type", "time", "organization", "room", "actor", "changes", "object"}
    assert done["organization"] == {"id": str(org.pk), "name": org.name}
    assert done["room"]["id"] == str(room.pk)
    assert done["object"]["id"] == str(plan["task"].pk)
    assert done["object"]["status"] == "done"
    retried = next(r for r in receiver.requests if r.status == 500)
    assert retried.json["id"] == next(
        r.json["id"] for r in receiver.accepted if r.json["type"] == retried.json["type"]
    )
    headers = receiver.accepted[0].headers
    assert headers["Mapsite-Event"] in EventType.values and headers["Mapsite-Delivery"]
    # A retry is recognisable: the same delivery id and event id as the first attempt.
    again = next(r for r in receiver.accepted if r.json["id"] == retried.json["id"])
    for name in ("Mapsite-Delivery", "Mapsite-Event-Id"):
        assert again.headers[name] == retried.headers[name]
    row = Delivery.objects.get(event_type="task.completed")
    assert row.status == DeliveryStatus.DELIVERED and row.response_code == 200
    assert row.attempts in (1, 2)


def test_a_receiver_that_cannot_verify_refuses_and_the_delivery_fails(
    endpoint, receiver, plan, owner
):
    receiver.secret = "whsec_not-the-right-one"
    complete(plan["task"], Actor(user=owner))
    dispatch()
    webhook_delivery.deliver_due()
    assert {r.status for r in receiver.requests} == {401}
    assert not any(r.verified for r in receiver.requests)
    # 401 will not pass by waiting: failed at once, for an admin to look at.
    assert set(Delivery.objects.values_list("status", flat=True)) == {DeliveryStatus.FAILED}


def test_an_endpoint_outside_the_allowed_networks_is_not_connected_to(
    endpoint, receiver, plan, owner, settings
):
    """Saved while the operator allowed its network, refused once they no longer do:
    the address is checked on every connection, and the delivery fails at once."""
    settings.OUTBOUND_ALLOW_NETWORKS = []
    endpoint.events = ["task.completed"]
    endpoint.save()
    complete(plan["task"], Actor(user=owner))
    dispatch()

    assert webhook_delivery.deliver_due() == {"failed": 1}
    row = Delivery.objects.get()
    assert row.attempts == 1 and row.response_code is None
    assert row.last_error == "Could not reach the endpoint: address not allowed"
    assert receiver.requests == []


def test_an_unreachable_endpoint_is_told_in_a_few_words(admin_membership, plan, owner, settings):
    import socket

    settings.OUTBOUND_ALLOW_NETWORKS = ["127.0.0.0/8"]
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    endpoint_create(
        membership=admin_membership, url=f"http://127.0.0.1:{port}/x", events=["task.completed"]
    )
    complete(plan["task"], Actor(user=owner))
    dispatch()

    assert webhook_delivery.deliver_due() == {"pending": 1}
    assert Delivery.objects.get().last_error == "Could not reach the endpoint: connection refused"


def test_gives_up_after_the_last_attempt(endpoint, receiver, plan, owner, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    receiver.script(503, 503, 503, 503)
    endpoint.events = ["task.completed"]
    endpoint.save()
    complete(plan["task"], Actor(user=owner))
    dispatch()
    for _ in range(3):
        due_now()
        webhook_delivery.deliver_due()
    row = Delivery.objects.get()
    assert row.status == DeliveryStatus.FAILED and row.attempts == 3
    assert "gave up after 3 attempts" in row.last_error


def test_every_event_type(endpoint, receiver, plan, owner, admin_membership, room):
    from alerts.sweep import sweep_overdue

    task, buyer, milestone = plan["task"], plan["buyer"], plan["milestone"]
    actor = Actor(user=owner)
    # Overdue: one task 8 days late is flagged and alerted by the sweep.
    late = TaskFactory(milestone=MilestoneFactory(plan=plan["plan"], room=room, org=room.org))
    Task.objects.filter(pk=late.pk).update(
        due_date=room.today() - datetime.timedelta(days=8), created_at=PLANNED
    )
    sweep_overdue()
    complete(task, actor)  # task.completed, milestone.completed
    link, _ = link_issue(actor=actor, room=room, stakeholder=buyer)
    access = BuyerAccess(link)
    view_record(access, kind=ViewEvent.Kind.ROOM)  # stakeholder.first_view
    view_record(access, kind=ViewEvent.Kind.ROOM)  # not the first any more
    plan_agree(access=access)  # plan.agreed
    room_close(actor=actor, membership=admin_membership, room_id=room.pk, outcome="won")
    other = room.__class__.objects.create(
        org=room.org,
        owner=owner,
        name="Other",
        buyer_company="B",
        target_close_date=room.target_close_date,
    )
    room_close(
        actor=actor, membership=admin_membership, room_id=other.pk, outcome="lost", reason="Price"
    )

    dispatch()
    webhook_delivery.deliver_due()
    received = sorted(r.json["type"] for r in receiver.accepted)
    assert received == sorted(EventType.values)
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE
    first_view = next(
        r.json for r in receiver.accepted if r.json["type"] == "stakeholder.first_view"
    )
    assert first_view["object"]["id"] == str(buyer.pk)
    assert first_view["id"] == f"evt_first_view_{buyer.pk}"


def test_one_sweep_entry_is_one_event_per_task(endpoint, receiver, plan, room):
    """The sweep logs one entry per room naming its tasks; subscribers still get one
    task.flagged event per task, each with its own id, object and lateness."""
    from alerts.sweep import sweep_overdue

    milestone = MilestoneFactory(plan=plan["plan"], room=room, org=room.org)
    late = [TaskFactory(milestone=milestone, title=f"Late {n}") for n in (1, 2)]
    for n, task in enumerate(late):
        Task.objects.filter(pk=task.pk).update(
            due_date=room.today() - datetime.timedelta(days=3 + n), created_at=PLANNED
        )
    endpoint.events = ["task.flagged"]
    endpoint.save()
    sweep_overdue()
    assert dispatch() == 2
    webhook_delivery.deliver_due()
    events = sorted((r.json for r in receiver.accepted), key=lambda e: e["object"]["title"])
    assert [e["type"] for e in events] == ["task.flagged", "task.flagged"]
    assert [e["object"]["id"] for e in events] == [str(task.pk) for task in late]
    assert [e["object"]["overdue_days"] for e in events] == [3, 4]
    assert [e["changes"] for e in events] == [
        {"late": {"label": "Days late", "from": "", "to": "3"}},
        {"late": {"label": "Days late", "from": "", "to": "4"}},
    ]
    entry = ActivityEvent.objects.get(verb="flagged")
    assert [e["id"] for e in events] == [f"evt_{entry.pk}_{task.pk}" for task in late]
    assert dispatch() == 0  # not twice


def test_subscriptions_endpoints_and_the_time_they_were_added(
    admin_membership, receiver, plan, owner, room
):
    complete(plan["task"], Actor(user=owner))  # before any endpoint exists
    won_only, _ = endpoint_create(
        membership=admin_membership, url=receiver.url + "?a", events=["room.won"]
    )
    both, secret = endpoint_create(
        membership=admin_membership, url=receiver.url + "?b", events=["room.won", "room.lost"]
    )
    receiver.secret = secret
    room_close(actor=Actor(user=owner), membership=admin_membership, room_id=room.pk, outcome="won")
    dispatch()
    rows = sorted(Delivery.objects.values_list("endpoint_id", "event_type"))
    assert rows == sorted([(won_only.pk, "room.won"), (both.pk, "room.won")])
    ids = set(Delivery.objects.values_list("event_id", flat=True))
    assert len(ids) == 1  # the same event id for every endpoint


def test_an_entry_committed_late_is_still_delivered(endpoint, receiver, room, owner):
    """A transaction that began earlier commits after later ones: its entry's time is
    older than entries already dispatched. A cursor on the last id or time would skip
    it; the overlapping window does not."""
    now = timezone.now()
    endpoint.created_at = now - datetime.timedelta(minutes=10)
    endpoint.save()

    def flagged(task_id, at):
        return ActivityEvent.objects.create(
            org=room.org,
            room=room,
            created_at=at,
            actor_kind=ActorKind.SYSTEM,
            actor_label="mapsite",
            verb="flagged",
            target_type="task",
            target_id=task_id,
            changes={task_id: {"label": "A task", "to": "3 days late", "days": 3}},
        )

    flagged(str(uuid.uuid4()), now)
    assert dispatch(now=now + datetime.timedelta(seconds=1)) == 1
    flagged(str(uuid.uuid4()), now - datetime.timedelta(minutes=2))  # committed late, dated earlier
    assert dispatch(now=now + datetime.timedelta(minutes=1)) == 1
    assert dispatch(now=now + datetime.timedelta(minutes=2)) == 0
    assert Delivery.objects.count() == 2


def test_two_dispatch_runs_at_once_make_one_delivery(endpoint, plan, owner, monkeypatch):
    """Both runs read the log before either inserts: the unique constraint keeps one."""
    from webhooks import services

    complete(plan["task"], Actor(user=owner))
    assert dispatch() == 2
    # A second run that read before the first one inserted inserts the same pairs.
    monkeypatch.setattr(services, "_existing", lambda endpoints, since: set())
    assert dispatch() == 2  # tried
    assert Delivery.objects.count() == 2  # but the database kept one of each


def test_beat_runs_the_dispatch_every_minute(endpoint, receiver, plan, owner):
    """The safety net: beat's task dispatches and sends, whatever triggers were lost."""
    from mapsite.celery import app
    from webhooks.tasks import dispatch as dispatch_task

    entry = app.conf.beat_schedule["dispatch-webhooks"]
    assert entry["task"] == dispatch_task.name and entry["schedule"] == 60
    complete(plan["task"], Actor(user=owner))
    result = dispatch_task.run()
    assert result["created"] == 2 and result["delivered"] == 2
    assert len(receiver.accepted) == 2
