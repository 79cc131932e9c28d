import pytest
from django.core.management import call_command

from accounts.models import Membership, Organization
from plans.models import Milestone, Task
from rooms.models import Room
from stakeholders.models import Stakeholder

pytestmark = pytest.mark.django_db


def test_demo_data_is_created_once_with_the_promised_shape(capsys):
    call_command("seed_demo")
    out = capsys.readouterr().out
    assert "demo@northwind.example" in out and "password" in out

    org = Organization.objects.get(name="Northwind Software")
    room = Room.objects.get(org=org, buyer_company="Acme Corp")
    tasks = list(Task.objects.for_room(room))
    today = room.today()
    assert Milestone.objects.for_room(room).count() == 5
    assert len(tasks) == 12
    people = Stakeholder.objects.for_room(room)
    assert people.count() == 6
    assert {p.side for p in people} == {"buyer", "seller"}
    assert sum(t.status == "done" for t in tasks) >= 2
    assert sum(t.status == "blocked" for t in tasks) == 1
    assert sum(t.days_overdue(today) > 0 for t in tasks) == 2
    assert all(t.owner_id for t in tasks)

    rooms, tasks = Room.objects.count(), Task.objects.count()
    call_command("seed_demo")  # again: nothing new, nothing lost
    assert Room.objects.count() == rooms and Task.objects.count() == tasks
    assert Membership.objects.filter(org=org).count() == 3


def test_demo_pipeline_shows_every_failure_pattern_and_closed_deals():
    from plans.health import room_signals

    call_command("seed_demo")
    org = Organization.objects.get(name="Northwind Software")
    rooms = Room.objects.filter(org=org)
    open_rooms = [r for r in rooms if r.outcome == "open"]
    badges = set()
    for room in open_rooms:
        badges |= set(room_signals(room).badges)
    assert badges == {"seller_only", "vague", "approver_dark", "zombie", "overdue", "slipping"}
    closed = [r for r in rooms if r.outcome != "open"]
    assert {r.outcome for r in closed} == {"won", "lost"}
    engaged = {r.last_buyer_contribution_at is not None for r in closed}
    assert engaged == {True, False}


def test_the_demo_room_shows_late_work_flagged_and_alerted_and_a_clean_plan():
    """The demo's plan was made weeks ago: the sweep flags the task 5 days late and
    alerts the one 9 days late, the plan has nothing "planned in the past" to fix, and
    the done milestone is dated when its work was done, not on the day of the seed."""
    from alerts.sweep import sweep_overdue
    from plans.selectors import room_schedule

    call_command("seed_demo")
    sweep_overdue()
    room = Room.objects.get(buyer_company="Acme Corp")
    flags = {t.title: t.overdue_flag for t in Task.objects.for_room(room) if t.overdue_flag}
    assert flags == {
        "Draft business case with ROI model": "alerted",
        "Review security documentation": "flagged",
    }
    schedule = room_schedule(room)
    assert [p.code for p in schedule.problems] == []
    done = Milestone.objects.for_room(room).get(title="Technical validation complete")
    assert schedule.items[done.pk].late_days == 0


def test_deferred_recounts_run_once_per_room_at_the_end():
    """A batch of writes (the seed) recounts each room once when it ends, and ends with
    the same signals as recounting after every write."""
    from plans import services as plan_services
    from rooms.actors import Actor
    from tests.factories import MembershipFactory, RoomFactory

    membership = MembershipFactory()
    room = RoomFactory(org=membership.org, owner=membership.user)
    actor = Actor(user=membership.user)
    with plan_services.plan_recounts_deferred():
        plan = plan_services.plan_start(actor=actor, room=room, template_slug="empty")
        milestone = plan_services.milestone_create(
            actor=actor, room=room, plan=plan, title="Pilot", target_date=room.target_close_date
        )
        for n in range(3):
            plan_services.task_create(actor=actor, room=room, milestone=milestone, title=f"T{n}")
        room.refresh_from_db()
        assert room.seller_tasks_total + room.buyer_tasks_total == 0  # not yet recounted
    room.refresh_from_db()
    assert room.seller_tasks_total + room.buyer_tasks_total == 3 and room.has_plan
