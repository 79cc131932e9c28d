"""Plan templates through the API: GET /api/v1/templates/ lists the built-ins and the
organisation's own, and a room is created from either with ``"template": <id or slug>``."""

import pytest

from accounts.models import Membership, Role
from plans.models import Milestone, Plan, Playbook, Task
from plans.playbook_format import PlaybookError
from plans.services import playbook_create
from rooms.models import ActivityEvent, Room
from tests.api.conftest import api_client_for
from tests.factories import MembershipFactory

pytestmark = pytest.mark.django_db

ONBOARDING = {
    "name": "Security-heavy enterprise",
    "motion": "Enterprise, security first",
    "description": "For deals where the CISO signs first.",
    "milestones": [
        {
            "title": "Security review complete",
            "anchor": "close",
            "offset_days": 30,
            "lead_side": "buyer",
            "track": "security",
            "completion_condition": "Sign-off email from the CISO",
            "tasks": [
                {"title": "Send the SOC 2 report", "side": "seller", "offset_days": 40},
                {
                    "title": "Complete the questionnaire",
                    "side": "buyer",
                    "owner_role": "champion",
                    "offset_days": 35,
                },
            ],
        },
        {
            "title": "Contract signed",
            "anchor": "close",
            "offset_days": 0,
            "lead_side": "buyer",
            "track": "legal",
            "completion_condition": "Countersigned order form",
            "depends_on": [0],
        },
    ],
}


def room_data(**extra):
    return {
        "name": "Acme rollout",
        "buyer_company": "Acme",
        "target_close_date": "2030-03-29",
    } | extra


@pytest.fixture
def playbook(org, admin_user):
    membership = Membership.objects.get(user=admin_user, org=org)
    return playbook_create(membership=membership, data=ONBOARDING)


def test_the_list_has_the_built_ins_and_the_organisations_own(api, playbook):
    response = api.get("/api/v1/templates/")
    assert response.status_code == 200, response.content
    rows = response.json()["results"]
    built_in = {row["slug"]: row for row in rows if row["kind"] == "built-in"}
    assert {"light", "standard", "enterprise", "activation", "renewal"} <= set(built_in)
    assert built_in["light"]["id"] is None and built_in["light"]["template"] == "light"
    (own,) = [row for row in rows if row["kind"] == "organisation"]
    assert own["id"] == str(playbook.pk) and own["template"] == str(playbook.pk)
    assert own["slug"] == playbook.slug and own["name"] == "Security-heavy enterprise"
    assert own["motion"] == "Enterprise, security first"
    assert (own["milestone_count"], own["task_count"]) == (2, 2)
    milestones = own["body"]["milestones"]
    assert [m["title"] for m in milestones] == ["Security review complete", "Contract signed"]


def test_another_organisation_never_sees_them(outsider_api, playbook):
    rows = outsider_api.get("/api/v1/templates/").json()["results"]
    assert all(row["kind"] == "built-in" for row in rows)
    assert str(playbook.pk) not in {row["template"] for row in rows}


def test_the_list_refuses_unknown_filters(api):
    response = api.get("/api/v1/templates/?kind=built-in")
    assert response.status_code == 400 and "kind" in response.json()


@pytest.mark.parametrize("key", ["id", "slug"])
def test_a_room_is_created_from_the_organisations_template(api, org, playbook, key):
    value = str(playbook.pk) if key == "id" else playbook.slug
    response = api.post("/api/v1/rooms/", room_data(template=value))
    assert response.status_code == 201, response.content
    room = Room.objects.get(pk=response.json()["id"], org=org)
    plan = Plan.objects.get(room=room)
    assert plan.template_name == "Security-heavy enterprise"
    assert list(Milestone.objects.filter(room=room).values_list("title", flat=True)) == [
        "Security review complete",
        "Contract signed",
    ]
    assert Task.objects.filter(room=room).count() == 2
    entry = ActivityEvent.objects.get(room=room, verb="applied_template")
    assert "Security-heavy enterprise" in entry.target_label


def test_a_built_in_is_still_named_by_its_slug(api, org):
    response = api.post("/api/v1/rooms/", room_data(template="activation"))
    assert response.status_code == 201, response.content
    room = Room.objects.get(pk=response.json()["id"], org=org)
    assert Plan.objects.get(room=room).template == "activation"


def test_another_organisations_template_is_unknown_and_nothing_is_created(
    outsider_api, other_org, playbook
):
    for value in (str(playbook.pk), playbook.slug, "no-such-template"):
        response = outsider_api.post("/api/v1/rooms/", room_data(template=value))
        assert response.status_code == 400, response.content
        assert "template" in response.json()
    assert not Room.objects.filter(org=other_org).exists()


def test_an_organisation_template_cannot_take_a_built_in_name(org, admin_user):
    membership = Membership.objects.get(user=admin_user, org=org)
    with pytest.raises(PlaybookError, match="built-in"):
        playbook_create(membership=membership, data=ONBOARDING | {"slug": "light"})
    light = playbook_create(membership=membership, data=ONBOARDING | {"name": "Light"})
    assert light.slug != "light"


def test_a_rep_lists_them_too(org, playbook):
    rep = MembershipFactory(org=org, role=Role.REP).user
    rows = api_client_for(rep, org).get("/api/v1/templates/").json()["results"]
    assert str(playbook.pk) in {row["template"] for row in rows}


def test_a_stored_template_that_no_longer_loads_is_left_out_not_a_500(api, org, playbook):
    """(A template saved before a rule of the format changed.)"""
    Playbook.objects.filter(pk=playbook.pk).update(body={"milestones": "not a list"})
    response = api.get("/api/v1/templates/")
    assert response.status_code == 200
    assert str(playbook.pk) not in {row["template"] for row in response.json()["results"]}
    created = api.post("/api/v1/rooms/", room_data(template=str(playbook.pk)))
    assert created.status_code == 400 and "needs fixing" in str(created.json())
    assert not Room.objects.filter(org=org, name="Acme rollout").exists()
