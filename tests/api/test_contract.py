"""The API's contract, as an integrator sees it: fields, ETag/If-Match, validation, and
writes through the same services as the pages (activity log, room revision)."""

import datetime
from urllib.parse import urlsplit

import pytest
from django.test import Client

from accounts.models import ApiToken, Role
from plans.models import Milestone, MilestoneStatus, Plan, Task
from plans.services import room_plan_recount, task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.models import AccessLink
from tests.factories import MembershipFactory, TaskFactory

pytestmark = pytest.mark.django_db


def room_render(**extra):
    return {
        "name": "Acme rollout",
        "buyer_company": "Acme",
        "target_close_date": "2030-03-29",
        **extra,
    }


def test_create_a_room_from_a_template_builds_its_plan(api, org, owner):
    response = api.post("/api/v1/rooms/", room_render(template="standard", value="1200.50"))
    assert response.status_code == 201, response.content
    body = response.json()
    assert response["ETag"] == '"1"'
    assert body["owner"] == str(owner.pk)
    assert body["outcome"] == "open" and body["has_plan"] is True
    assert "template" not in body
    room = Room.objects.get(pk=body["id"], org=org)
    assert Plan.objects.get(room=room).template == "standard"
    assert Milestone.objects.filter(room=room).count() > 3
    verbs = set(ActivityEvent.objects.filter(room=room).values_list("verb", flat=True))
    assert {"created", "applied_template"} <= verbs


def test_room_fields_and_validation(api):
    response = api.post("/api/v1/rooms/", room_render(template="nope"))
    assert response.status_code == 400 and "template" in response.json()
    response = api.post("/api/v1/rooms/", room_render(target_close_date="20266-01-01"))
    assert response.status_code == 400
    response = api.post("/api/v1/rooms/", room_render(target_close_date="1900-01-01"))
    assert response.status_code == 400 and "target_close_date" in response.json()
    response = api.post("/api/v1/rooms/", room_render(currency="€€"))
    assert response.status_code == 400 and "currency" in response.json()
    response = api.post("/api/v1/rooms/", room_render(outcome="won"))
    assert response.status_code == 400
    response = api.post("/api/v1/rooms/", ["not", "an", "object"], format="json")
    assert response.status_code == 400
    response = api.post("/api/v1/rooms/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert Room.objects.count() == 0


def test_unknown_and_read_only_fields_are_refused(api, plan_objects):
    task = plan_objects["task"]
    response = api.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"title": "x", "colour": "red", "version": 9},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert response.status_code == 400
    assert response.json() == {
        "colour": ["Unknown field."],
        "version": ["This field is read-only."],
    }
    task.refresh_from_db()
    assert task.title != "x" and task.version == 1


def test_etag_and_if_match_on_tasks(api, plan_objects):
    task = plan_objects["task"]
    url = f"/api/v1/tasks/{task.pk}/"
    read = api.get(url)
    assert read.status_code == 200 and read["ETag"] == '"1"'
    events = ActivityEvent.objects.count()

    missing = api.patch(url, {"status": "done"}, format="json")
    assert missing.status_code == 428
    garbage = api.patch(url, {"status": "done"}, format="json", HTTP_IF_MATCH="W/1")
    assert garbage.status_code == 412
    task.refresh_from_db()
    assert task.status == "not_started" and ActivityEvent.objects.count() == events

    done = api.patch(
        url, {"status": "done", "evidence": "PO 42"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert done.status_code == 200, done.content
    assert done["ETag"] == '"2"'
    assert done.json()["status"] == "done" and done.json()["completed_at"]

    # Stale, even though "notes" did not move since version 1: the API does not merge.
    stale = api.patch(url, {"notes": "late"}, format="json", HTTP_IF_MATCH='"1"')
    assert stale.status_code == 412
    assert stale.json()["current_version"] == 2 and stale["ETag"] == '"2"'
    task.refresh_from_db()
    assert task.notes == "" and task.version == 2

    stale_delete = api.delete(url, HTTP_IF_MATCH='"1"')
    assert stale_delete.status_code == 412 and Task.objects.filter(pk=task.pk).exists()
    assert api.delete(url).status_code == 428
    assert api.delete(url, HTTP_IF_MATCH='"2"').status_code == 204
    assert not Task.objects.filter(pk=task.pk).exists()


def test_a_task_change_goes_through_the_plan_services(api, plan_objects):
    task, milestone, room = plan_objects["task"], plan_objects["milestone"], plan_objects["room"]
    revision = Room.objects.get(pk=room.pk).revision
    response = api.patch(
        f"/api/v1/tasks/{task.pk}/", {"status": "done"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert response.status_code == 200
    assert Room.objects.get(pk=room.pk).revision > revision  # live viewers hear of it
    event = ActivityEvent.objects.filter(target_id=str(task.pk), verb="updated").get()
    assert event.actor_user_id == task.room.owner_id and "status" in event.changes
    milestone.refresh_from_db()  # its only task is done: the milestone completed
    assert milestone.status == MilestoneStatus.DONE
    assert ActivityEvent.objects.filter(target_id=str(milestone.pk), verb="completed").exists()
    body = api.get(f"/api/v1/milestones/{milestone.pk}/").json()
    assert body["status"] == "done" and body["completed_at"]


def test_task_fields_side_overdue_and_flag(api, plan_objects):
    import datetime

    task = plan_objects["task"]
    today = task.room.today()
    Task.objects.filter(pk=task.pk).update(
        due_date=today - datetime.timedelta(days=8),
        overdue_level=7,
        overdue_for=today - datetime.timedelta(days=8),
    )
    body = api.get(f"/api/v1/tasks/{task.pk}/").json()
    assert body["side"] == "buyer"  # from the owner
    assert body["overdue_days"] == 8 and body["flag"] == "alerted"
    assert body["owner"] == str(plan_objects["stakeholder"].pk)
    listed = api.get("/api/v1/tasks/", {"overdue": "true"}).json()
    assert [t["id"] for t in listed["results"]] == [str(task.pk)]
    assert api.get("/api/v1/tasks/", {"overdue": "false"}).json()["count"] == 0
    assert api.get("/api/v1/tasks/", {"status": "done"}).json()["count"] == 0
    assert api.get("/api/v1/tasks/", {"status": "nope"}).status_code == 400
    assert api.get("/api/v1/tasks/", {"milestone": "nope"}).status_code == 400
    assert api.get("/api/v1/tasks/", {"rooom": str(task.room_id)}).status_code == 400


def test_milestones_create_update_and_dependencies(api, room):
    first = api.post("/api/v1/milestones/", {"room": str(room.pk), "title": "Security review"})
    assert first.status_code == 201, first.content
    assert Plan.objects.filter(room=room).exists()  # the first milestone starts the plan
    second = api.post(
        "/api/v1/milestones/",
        {"room": str(room.pk), "title": "Signature", "depends_on": [first.json()["id"]]},
        format="json",
    )
    assert second.status_code == 201, second.content
    assert second.json()["depends_on"] == [first.json()["id"]]
    first_id = first.json()["id"]
    cycle = api.patch(
        f"/api/v1/milestones/{first_id}/",
        {"depends_on": [second.json()["id"]]},
        format="json",
        HTTP_IF_MATCH=first["ETag"],
    )
    assert cycle.status_code == 400 and "depends_on" in cycle.json()
    status_write = api.patch(
        f"/api/v1/milestones/{first_id}/",
        {"status": "done"},
        format="json",
        HTTP_IF_MATCH=first["ETag"],
    )
    assert status_write.status_code == 400  # derived from its tasks
    moved = api.patch(
        f"/api/v1/milestones/{first_id}/",
        {"target_date": "2030-01-15", "lead_side": "seller"},
        format="json",
        HTTP_IF_MATCH=first["ETag"],
    )
    assert moved.status_code == 200 and moved["ETag"] == '"2"'


def test_room_outcome_closes_and_reopens_through_the_room_services(api, room):
    url = f"/api/v1/rooms/{room.pk}/"
    lost = api.patch(url, {"outcome": "lost"}, format="json", HTTP_IF_MATCH='"1"')
    assert lost.status_code == 400  # a lost deal needs its reason
    lost = api.patch(
        url, {"outcome": "lost", "outcome_reason": "No budget"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert lost.status_code == 200
    assert lost.json()["outcome"] == "lost" and lost.json()["outcome_reason"] == "No budget"
    assert ActivityEvent.objects.filter(room=room, verb="lost").exists()
    reopened = api.patch(url, {"outcome": "open"}, format="json", HTTP_IF_MATCH=lost["ETag"])
    assert reopened.status_code == 200 and reopened.json()["outcome"] == "open"
    both = api.patch(
        url,
        {"outcome": "won", "outcome_reason": "Signed", "stage": "closing"},
        format="json",
        HTTP_IF_MATCH=reopened["ETag"],
    )
    assert both.status_code == 200, both.content
    assert both.json()["stage"] == "closing" and both.json()["outcome"] == "won"


def test_reopening_a_lost_deal_with_other_changes_reopens_then_applies_them(api, room):
    url = f"/api/v1/rooms/{room.pk}/"
    lost = api.patch(
        url, {"outcome": "lost", "outcome_reason": "No budget"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert lost.status_code == 200
    reopened = api.patch(
        url, {"outcome": "open", "stage": "negotiation"}, format="json", HTTP_IF_MATCH=lost["ETag"]
    )
    assert reopened.status_code == 200, reopened.content
    body = reopened.json()
    assert (body["outcome"], body["stage"]) == ("open", "negotiation")
    room.refresh_from_db()
    assert (room.outcome, room.stage, room.outcome_reason) == ("open", "negotiation", "")
    assert reopened["ETag"] == f'"{room.version}"'


def test_writes_to_a_lost_deal_answer_409_in_json(api, plan_objects):
    room, task = plan_objects["room"], plan_objects["task"]
    lost = api.patch(
        f"/api/v1/rooms/{room.pk}/",
        {"outcome": "lost", "outcome_reason": "No budget"},
        format="json",
        HTTP_IF_MATCH='"1"',
    )
    assert lost.status_code == 200
    refused = api.patch(
        f"/api/v1/tasks/{task.pk}/", {"title": "Late edit"}, format="json", HTTP_IF_MATCH='"1"'
    )
    assert refused.status_code == 409
    assert refused["Content-Type"].startswith("application/json")
    assert "marked lost, so the room is read-only" in refused.json()["detail"]
    task.refresh_from_db()
    assert task.title != "Late edit"


def test_stakeholders_and_their_links(api, room, client):
    person = api.post(
        "/api/v1/stakeholders/",
        {"room": str(room.pk), "name": "Ann Lee", "email": "ann@acme.example", "role": "champion"},
    )
    assert person.status_code == 201, person.content
    person_id = person.json()["id"]
    issued = api.post(f"/api/v1/stakeholders/{person_id}/links/", {"days": 30}, format="json")
    assert issued.status_code == 201
    assert set(issued.json()) == {"id", "url", "expires_at"}
    link_url = issued.json()["url"]
    listed = api.get(f"/api/v1/stakeholders/{person_id}/links/").json()
    assert listed["count"] == 1 and "url" not in listed["results"][0]
    assert listed["results"][0]["state"] == "active"
    assert link_url.split("/")[-2] not in str(listed)

    buyer = Client()
    path = urlsplit(link_url).path
    assert buyer.get(path).status_code == 303  # the link opens the room
    first_view = ActivityEvent.objects.get(room=room, verb="first_view")
    assert first_view.target_id == person_id
    revoke = api.delete(f"/api/v1/links/{issued.json()['id']}/")
    assert revoke.status_code == 204
    assert AccessLink.objects.get(pk=issued.json()["id"]).revoked_at is not None
    assert buyer.get("/b/room/").status_code == 410
    assert Client().get(path).status_code == 410


def test_links_are_for_buyers(api, room):
    seller = api.post(
        "/api/v1/stakeholders/", {"room": str(room.pk), "name": "Sam", "side": "seller"}
    )
    response = api.post(f"/api/v1/stakeholders/{seller.json()['id']}/links/", {}, format="json")
    assert response.status_code == 400


def test_delete_a_room_needs_if_match_and_the_owner_or_a_manager(api, room, member, org):
    from .conftest import api_client_for

    url = f"/api/v1/rooms/{room.pk}/"
    assert api.delete(url).status_code == 428
    assert api.delete(url, HTTP_IF_MATCH='"5"').status_code == 412
    other_rep = MembershipFactory(org=org, role=Role.REP).user
    refused = api_client_for(other_rep, org).delete(url, HTTP_IF_MATCH='"1"')
    assert refused.status_code == 403 and "owner, managers and admins" in refused.json()["detail"]
    assert Room.objects.filter(pk=room.pk).exists()
    assert api_client_for(member, org).delete(url, HTTP_IF_MATCH='"1"').status_code == 204
    assert not Room.objects.filter(pk=room.pk).exists()


def test_sign_in_for_a_token(client, owner, org):
    from tests.factories import PASSWORD

    response = client.post(
        "/api/v1/auth/token/",
        {"email": owner.email, "password": PASSWORD, "name": "CRM"},
        content_type="application/json",
    )
    assert response.status_code == 201
    token = response.json()["token"]
    assert response.json()["organization"] == str(org.pk)
    stored = ApiToken.objects.get(user=owner)
    assert stored.name == "CRM" and token not in stored.token_hash
    rooms = client.get("/api/v1/rooms/", HTTP_AUTHORIZATION=f"Token {token}")
    assert rooms.status_code == 200
    wrong = client.post(
        "/api/v1/auth/token/",
        {"email": owner.email, "password": "nope"},
        content_type="application/json",
    )
    assert wrong.status_code == 400


def test_sign_in_is_rate_limited(client, owner, settings):
    settings.API_SIGNIN_RATE = "3/min"
    codes = [
        client.post(
            "/api/v1/auth/token/",
            {"email": owner.email, "password": "wrong"},
            content_type="application/json",
        ).status_code
        for _ in range(4)
    ]
    assert codes == [400, 400, 400, 429]


def test_throttling_is_per_token(owner, org, settings):
    from .conftest import api_client_for

    settings.API_THROTTLE_RATE = "3/min"
    first, second = api_client_for(owner, org), api_client_for(owner, org)
    assert [first.get("/api/v1/rooms/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert second.get("/api/v1/rooms/").status_code == 200  # another token, its own budget
    assert "Retry-After" in first.get("/api/v1/rooms/")


def test_no_token_no_api(client, room):
    response = client.get("/api/v1/rooms/")
    assert response.status_code == 401
    assert client.get("/api/v1/rooms/", HTTP_AUTHORIZATION="Token msk_nope").status_code == 401
    assert client.get("/api/v1/nothing-here/").status_code == 404


def test_schema_and_reference_page(client):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/v1/tasks/{id}/" in paths and "/api/v1/webhooks/" in paths
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/api/v1/tasks/{id}/" in html and "If-Match" in html
    assert "<script" not in html.split("</header>", 1)[1].split("<footer", 1)[0]
    assert "cdn" not in html.lower()


def test_a_token_is_bound_to_one_organisation_and_goes_with_the_membership(
    client, owner, org, other_org, room
):
    from accounts.models import Membership
    from accounts.services import membership_remove
    from tests.factories import PASSWORD, RoomFactory

    Membership.objects.create(user=owner, org=other_org)
    theirs = RoomFactory(org=other_org, owner=owner)
    response = client.post(
        "/api/v1/auth/token/",
        {"email": owner.email, "password": PASSWORD, "organization": str(other_org.pk)},
        content_type="application/json",
    )
    token = response.json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {token}"}
    ids = [r["id"] for r in client.get("/api/v1/rooms/", **auth).json()["results"]]
    assert ids == [str(theirs.pk)]  # that organisation's rooms only
    assert client.get(f"/api/v1/rooms/{room.pk}/", **auth).status_code == 404
    membership_remove(membership=Membership.objects.get(user=owner, org=other_org))
    assert client.get("/api/v1/rooms/", **auth).status_code == 401
    assert not ApiToken.objects.filter(org=other_org).exists()


def test_signals_read_what_the_room_shows(api, owner, plan_objects):
    """A CRM reads the MAP signals; they follow the plan as it changes."""
    room, task = plan_objects["room"], plan_objects["task"]
    room_plan_recount([room.pk])  # the plan was made by a factory, not the services
    url = f"/api/v1/rooms/{room.pk}/signals/"
    body = api.get(url).json()
    assert set(body) == {
        "has_map",
        "last_buyer_interaction_at",
        "buyer_milestones_completed",
        "buyer_milestones_total",
        "current_blocker",
        "days_since_last_milestone_completion",
        "health_score",
        "projected_close_date",
        "slip_days",
        "last_check_in_at",
    }
    assert body["has_map"] is True
    assert body["last_check_in_at"] is None
    assert (body["buyer_milestones_completed"], body["buyer_milestones_total"]) == (0, 1)
    assert body["days_since_last_milestone_completion"] is None
    assert 0 <= body["health_score"] <= 100

    # A late task is the blocker, named with its owner.
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"due_date": datetime.date.today() - datetime.timedelta(days=4)},
    )
    body = api.get(url).json()
    task.refresh_from_db()
    assert body["current_blocker"] == {
        "task": str(task.pk),
        "title": task.title,
        "owner": str(task.owner_id),
        "owner_name": plan_objects["stakeholder"].name,
        "due_date": task.due_date.isoformat(),
    }

    # Done: the buyer-led milestone completes, nothing blocks.
    task.refresh_from_db()
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"status": "done"},
    )
    body = api.get(url).json()
    assert body["current_blocker"] is None
    assert (body["buyer_milestones_completed"], body["buyer_milestones_total"]) == (1, 1)
    assert body["days_since_last_milestone_completion"] == 0


def test_signals_of_another_organisations_room_are_404(outsider_api, room):
    assert outsider_api.get(f"/api/v1/rooms/{room.pk}/signals/").status_code == 404


def test_the_overdue_filter_lists_open_tasks_past_due_in_their_rooms_timezone(api, plan_objects):
    milestone = plan_objects["milestone"]
    today = plan_objects["room"].today()
    late = plan_objects["task"]
    Task.objects.filter(pk=late.pk).update(due_date=today - datetime.timedelta(days=2))
    done = TaskFactory(milestone=milestone, due_date=today - datetime.timedelta(days=5))
    Task.objects.filter(pk=done.pk).update(status="done")
    due_today = TaskFactory(milestone=milestone, due_date=today)
    undated = TaskFactory(milestone=milestone, due_date=None)
    Task.objects.filter(pk=undated.pk).update(due_date=None)

    def ids(flag):
        body = api.get(f"/api/v1/tasks/?overdue={flag}").json()
        return {row["id"] for row in body["results"]}

    assert ids("true") == {str(late.pk)}
    assert ids("false") == {str(done.pk), str(due_today.pk), str(undated.pk)}
    assert api.get("/api/v1/tasks/?overdue=yes").status_code == 400


def test_a_stakeholder_is_a_named_person_through_the_api_too(api, room):
    response = api.post(
        "/api/v1/stakeholders/", {"room": str(room.pk), "name": "TBD"}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"name": ["Name a person, not a team or a placeholder."]}
    assert not room.stakeholders.exists()
