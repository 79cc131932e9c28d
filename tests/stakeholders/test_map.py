import pytest
from django.urls import reverse

from plans.models import Task
from stakeholders.models import Stakeholder
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def test_add_a_person_to_the_map(owner_client, room):
    response = owner_client.post(
        reverse("stakeholders:add", args=[room.pk]),
        {
            "name": "David Chen",
            "email": "david@acme.example",
            "title": "CFO",
            "side": "buyer",
            "role": "economic_buyer",
        },
        **HX,
    )
    assert response.status_code == 200 and "David Chen" in response.content.decode()
    person = Stakeholder.objects.get()
    assert (person.org_id, person.room_id, person.role) == (room.org_id, room.pk, "economic_buyer")


@pytest.mark.parametrize("name", ["", "TBD", "Legal"])
def test_a_placeholder_is_not_a_person(owner_client, room, name):
    response = owner_client.post(
        reverse("stakeholders:add", args=[room.pk]),
        {"name": name, "side": "buyer", "role": "other"},
        **HX,
    )
    assert response.status_code == 422
    assert not Stakeholder.objects.exists()


def test_bad_email_is_an_inline_error(owner_client, room):
    person = StakeholderFactory(room=room)
    response = owner_client.post(
        reverse("stakeholders:save", args=[room.pk, person.pk]),
        {"_field": "email", "email": "not-an-email", "version": 1},
        **HX,
    )
    assert response.status_code == 422
    assert "valid email" in response.content.decode()


def test_edit_influence_and_approval_authority(owner_client, room):
    person = StakeholderFactory(room=room)
    url = reverse("stakeholders:save", args=[room.pk, person.pk])
    owner_client.post(url, {"_field": "influence", "influence": "high", "version": 1}, **HX)
    owner_client.post(
        url, {"_field": "approval_authority", "approval_authority": "on", "version": 2}, **HX
    )
    person.refresh_from_db()
    assert person.influence == "high" and person.approval_authority
    # Unticking posts no value for the box; it is still understood as "no".
    owner_client.post(url, {"_field": "approval_authority", "version": 3}, **HX)
    person.refresh_from_db()
    assert not person.approval_authority


def test_removing_a_person_keeps_their_tasks_unowned(owner_client, room):
    person = StakeholderFactory(room=room)
    plan = PlanFactory(room=room, org=room.org)
    task = TaskFactory(milestone=MilestoneFactory(plan=plan), owner=person)
    response = owner_client.post(reverse("stakeholders:delete", args=[room.pk, person.pk]), **HX)
    assert response.status_code == 200
    task = Task.objects.get(pk=task.pk)
    assert task.owner_id is None


def test_adding_a_person_tells_the_plan_to_redraw_its_owner_pickers(owner_client, room):
    response = owner_client.post(
        reverse("stakeholders:add", args=[room.pk]),
        {"name": "Ann Lee", "side": "buyer", "role": "legal"},
        **HX,
    )
    assert "people-changed" in response["HX-Trigger"]
    PlanFactory(room=room, org=room.org)
    section = owner_client.get(reverse("plans:room", args=[room.pk]) + "?part=plan", **HX)
    html = section.content.decode()
    assert html.lstrip().startswith('<section id="plan"') and "<html" not in html
