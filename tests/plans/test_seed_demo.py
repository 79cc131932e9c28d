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

    call_command("seed_demo")  # again: nothing new, nothing lost
    assert Room.objects.count() == 1 and Task.objects.count() == 12
    assert Membership.objects.filter(org=org).count() == 2
