"""Every list costs the same number of queries whatever the page size."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Membership
from rooms.actors import Actor
from stakeholders.links import link_issue
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)
from webhooks.models import Delivery
from webhooks.services import endpoint_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(org, owner):
    """12 of everything, spread over rooms, with dependencies and owners."""
    membership = Membership.objects.get(user=owner, org=org)
    endpoint, _ = endpoint_create(
        membership=membership, url="https://crm.example.com/x", events=["room.won"]
    )
    rooms, people, milestones = [], [], []
    for i in range(12):
        room = RoomFactory(org=org, owner=owner, timezone=["UTC", "Asia/Tokyo"][i % 2])
        plan = PlanFactory(room=room, org=org)
        milestone = MilestoneFactory(plan=plan)
        if milestones and milestones[-1].room_id == room.pk:
            milestone.depends_on.add(milestones[-1])
        person = StakeholderFactory(room=room)
        TaskFactory(milestone=milestone, owner=person)
        link_issue(actor=Actor(user=owner), room=room, stakeholder=person)
        Delivery.objects.create(
            org=org,
            endpoint=endpoint,
            event_id=f"evt_{i}",
            event_type="room.won",
            event_time=room.created_at,
            room=room,
        )
        rooms.append(room)
        people.append(person)
        milestones.append(milestone)
    extra = MilestoneFactory(plan=milestones[0].plan)
    extra.depends_on.add(milestones[0])
    return {"people": people, "endpoint": endpoint}


def _count(api, url, size):
    with CaptureQueriesContext(connection) as queries:
        response = api.get(url, {"page_size": size})
    assert response.status_code == 200, response.content
    assert len(response.json()["results"]) == size
    return len(queries)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/rooms/",
        "/api/v1/milestones/",
        "/api/v1/tasks/",
        "/api/v1/tasks/?overdue=false",
        "/api/v1/stakeholders/",
        "PERSON_LINKS",
        "ENDPOINT_DELIVERIES",
    ],
)
def test_list_queries_do_not_grow_with_the_page(admin_api, many, url):
    if url == "PERSON_LINKS":
        person = many["people"][0]
        for _ in range(11):
            link_issue(actor=Actor(), room=person.room, stakeholder=person)
        url = f"/api/v1/stakeholders/{person.pk}/links/"
    if url == "ENDPOINT_DELIVERIES":
        url = f"/api/v1/webhooks/{many['endpoint'].pk}/deliveries/"
    admin_api.get("/api/v1/rooms/")  # the token's first use is written once
    small = _count(admin_api, url, 2)
    large = _count(admin_api, url, 10)
    assert small == large
    assert large <= 6


def test_webhook_endpoints_list(admin_api, many, org, owner):
    membership = Membership.objects.get(user=owner, org=org)
    for i in range(11):
        endpoint_create(
            membership=membership, url=f"https://crm.example.com/{i}", events=["room.lost"]
        )
    admin_api.get("/api/v1/rooms/")
    assert _count(admin_api, "/api/v1/webhooks/", 2) == _count(admin_api, "/api/v1/webhooks/", 10)
