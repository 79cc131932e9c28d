import pytest
from rest_framework.test import APIClient

from accounts.models import Membership
from accounts.services import api_token_create
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory


def api_client_for(user, org):
    membership = Membership.objects.get(user=user, org=org)
    _, raw = api_token_create(membership=membership, name="tests")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {raw}")
    client.raw_token = raw
    return client


@pytest.fixture
def api(owner, org):
    """The room owner's API client."""
    return api_client_for(owner, org)


@pytest.fixture
def admin_api(admin_user, org):
    return api_client_for(admin_user, org)


@pytest.fixture
def outsider_api(outsider, other_org):
    return api_client_for(outsider, other_org)


@pytest.fixture
def plan_objects(room):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    buyer = StakeholderFactory(room=room)
    task = TaskFactory(milestone=milestone, owner=buyer)
    return {"room": room, "plan": plan, "milestone": milestone, "task": task, "stakeholder": buyer}
