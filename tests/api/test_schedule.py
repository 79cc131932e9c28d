"""The plan as a schedule through the API: GET rooms/{id}/schedule/, the signals a CRM
reads (projected close, slip, the blocker named in full), and POST rooms/{id}/replan/."""

import datetime

import pytest

from plans.models import Milestone, MilestoneStatus, Plan, Task
from plans.selectors import room_schedule
from plans.services import plan_start, task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from rooms.services import room_close
from tests.factories import RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db

LATE_DAYS = 5
KICK_OFF = "Kick-off call and agree evaluation criteria"


def a_weekday(day):
    """``day`` or the Wednesday after it (the template keeps weekday dates as they are)."""
    return day + datetime.timedelta(days=(2 - day.weekday()) % 7)


def _standard_room(org, owner):
    """A Standard-template room closing on a Wednesday about 60 days out."""
    today = datetime.date.today()
    room = RoomFactory(
        org=org, owner=owner, target_close_date=a_weekday(today + datetime.timedelta(days=60))
    )
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    room.refresh_from_db()
    return room


def _late_kick_off(room, owner, owner_person=None):
    """The first task of the plan, LATE_DAYS days past due (and owned by someone)."""
    task = Task.objects.get(room=room, title=KICK_OFF)
    changes = {"due_date": room.today() - datetime.timedelta(days=LATE_DAYS)}
    if owner_person is not None:
        changes["owner"] = owner_person
    return task_update(
        actor=Actor(user=owner), room=room, task_id=task.pk, base_version=1, changes=changes
    )


@pytest.fixture
def standard(org, owner):
    return _standard_room(org, owner)


def milestone_ids(room):
    return {m.title: str(m.pk) for m in Milestone.objects.filter(room=room)}


def test_the_schedule_of_a_standard_plan_with_a_late_task(api, owner, standard):
    room = standard
    late = _late_kick_off(room, owner)
    body = api.get(f"/api/v1/rooms/{room.pk}/schedule/").json()
    assert set(body) == {
        "target_close_date",
        "projected_close_date",
        "slip_days",
        "critical_path",
        "milestones",
        "tasks",
        "problems",
    }
    close = room.target_close_date
    # The late kick-off pushes everything after it, the close included, by its lateness.
    assert body["target_close_date"] == close.isoformat()
    assert body["projected_close_date"] == (close + datetime.timedelta(LATE_DAYS)).isoformat()
    assert body["slip_days"] == LATE_DAYS
    ids = milestone_ids(room)
    path = body["critical_path"]
    assert path[:2] == [str(late.pk), ids["Technical validation complete"]]
    assert path[-2:] == [ids["Legal review complete"], ids["Contract signed"]]
    assert path[2] in {ids["Security review complete"], ids["Business case approved"]}
    assert len(path) == 5
    # In the plan's order, each with its own date, projection, slack and place on the path.
    milestones = {m["id"]: m for m in body["milestones"]}
    assert [m["id"] for m in body["milestones"]] == [
        str(m.pk) for m in Milestone.objects.filter(room=room).order_by("order")
    ]
    for m in Milestone.objects.filter(room=room):
        row = milestones[str(m.pk)]
        assert set(row) == {"id", "target_date", "projected_date", "slack_days", "critical"}
        assert row["target_date"] == m.target_date.isoformat()
        assert row["projected_date"] == (m.target_date + datetime.timedelta(LATE_DAYS)).isoformat()
        assert row["critical"] == (str(m.pk) in path)
        assert isinstance(row["slack_days"], int) and row["slack_days"] >= 0
        if row["critical"]:
            assert row["slack_days"] == 0
    expected = room_schedule(room, template="standard")
    assert {m["id"]: m["slack_days"] for m in body["milestones"]} == {
        str(p.item.id): p.slack_days for p in expected.milestones()
    }
    tasks = {t["id"]: t for t in body["tasks"]}
    assert len(tasks) == Task.objects.filter(room=room).count() == 12
    assert tasks[str(late.pk)] == {
        "id": str(late.pk),
        "due_date": late.due_date.isoformat(),
        "projected_date": room.today().isoformat(),
        "critical": True,
    }
    # What to fix names its target by id (or null for the plan as a whole).
    assert body["problems"], "a template plan has seller-only tasks without owners"
    for problem in body["problems"]:
        assert set(problem) == {"code", "target", "message"}
        assert problem["target"] is None or problem["target"] in {*tasks, *milestones}
    assert any(p["code"] == "in_past" and p["target"] == str(late.pk) for p in body["problems"])


def test_a_room_without_a_plan_has_an_empty_schedule(api, room):
    body = api.get(f"/api/v1/rooms/{room.pk}/schedule/").json()
    assert body == {
        "target_close_date": room.target_close_date.isoformat(),
        "projected_close_date": None,
        "slip_days": 0,
        "critical_path": [],
        "milestones": [],
        "tasks": [],
        "problems": [],
    }


def test_signals_carry_the_projected_close_and_the_blocker_in_full(api, owner, standard):
    room = standard
    url = f"/api/v1/rooms/{room.pk}/signals/"
    body = api.get(url).json()
    assert body["projected_close_date"] == room.target_close_date.isoformat()
    assert body["slip_days"] == 0
    assert body["current_blocker"] is None

    person = StakeholderFactory(room=room, name="Maria Lopez")
    late = _late_kick_off(room, owner, owner_person=person)
    body = api.get(url).json()
    assert body["slip_days"] == LATE_DAYS
    stored = Room.objects.get(pk=room.pk)
    assert body["projected_close_date"] == stored.projected_close_date.isoformat()
    assert body["current_blocker"] == {
        "task": str(late.pk),
        "title": KICK_OFF,
        "owner": str(person.pk),
        "owner_name": "Maria Lopez",
        "due_date": late.due_date.isoformat(),
    }
    # The keys a CRM already reads are all still there.
    assert {
        "has_map",
        "last_buyer_interaction_at",
        "buyer_milestones_completed",
        "buyer_milestones_total",
        "current_blocker",
        "days_since_last_milestone_completion",
        "health_score",
    } < set(body)

    # A blocker nobody owns says so.
    Task.objects.filter(pk=late.pk).update(owner=None)
    blocker = api.get(url).json()["current_blocker"]
    assert blocker["owner"] is None and blocker["owner_name"] is None


def test_replan_moves_the_open_work_and_leaves_the_done_work(api, owner, standard):
    room = standard
    actor = Actor(user=owner)
    done = Task.objects.get(room=room, title=KICK_OFF)
    done = task_update(
        actor=actor, room=room, task_id=done.pk, base_version=1, changes={"status": "done"}
    )
    before_tasks = dict(Task.objects.filter(room=room).values_list("pk", "due_date"))
    before_milestones = dict(Milestone.objects.filter(room=room).values_list("pk", "target_date"))
    versions = dict(Task.objects.filter(room=room).values_list("pk", "version"))
    old_etag = api.get(f"/api/v1/tasks/{next(iter(set(versions) - {done.pk}))}/")["ETag"]
    room.refresh_from_db()
    revision, entries = room.revision, ActivityEvent.objects.filter(room=room).count()
    new_close = room.target_close_date + datetime.timedelta(days=14)

    response = api.post(
        f"/api/v1/rooms/{room.pk}/replan/",
        {"target_close_date": new_close.isoformat()},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["target_close_date"] == new_close.isoformat()
    assert body["slip_days"] == 0
    assert body["projected_close_date"] == new_close.isoformat()
    assert {m["id"] for m in body["milestones"]} == {str(pk) for pk in before_milestones}

    room.refresh_from_db()
    assert room.target_close_date == new_close
    for task in Task.objects.filter(room=room):
        if task.pk == done.pk:
            assert task.due_date == before_tasks[task.pk] and task.version == versions[task.pk]
        else:
            assert task.due_date == before_tasks[task.pk] + datetime.timedelta(days=14)
            assert task.version == versions[task.pk] + 1
    for milestone in Milestone.objects.filter(room=room):
        assert milestone.status != MilestoneStatus.DONE
        assert milestone.target_date == before_milestones[milestone.pk] + datetime.timedelta(14)
    # One entry, one revision: live viewers redraw once.
    assert room.revision == revision + 1
    assert ActivityEvent.objects.filter(room=room).count() == entries + 1
    event = ActivityEvent.objects.filter(room=room).first()
    assert event.verb == ActivityEvent.Verb.REPLANNED and event.actor_user_id == owner.pk
    assert event.target_type == "plan" and event.target_id == str(Plan.objects.get(room=room).pk)
    assert str(done.pk) not in event.changes and str(room.pk) in event.changes
    # An ETag read before the move is stale now.
    stale_id = next(iter(set(versions) - {done.pk}))
    stale = api.patch(
        f"/api/v1/tasks/{stale_id}/", {"notes": "x"}, format="json", HTTP_IF_MATCH=old_etag
    )
    assert stale.status_code == 412


def test_replan_to_the_same_date_changes_nothing(api, standard):
    room = standard
    revision, entries = room.revision, ActivityEvent.objects.count()
    response = api.post(
        f"/api/v1/rooms/{room.pk}/replan/",
        {"target_close_date": room.target_close_date.isoformat()},
        format="json",
    )
    assert response.status_code == 200
    assert Room.objects.get(pk=room.pk).revision == revision
    assert ActivityEvent.objects.count() == entries


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "Give the new target close date (YYYY-MM-DD)."),
        ({"target_close_date": None}, "Give the new target close date (YYYY-MM-DD)."),
        ({"target_close_date": ""}, "Give a real date as YYYY-MM-DD."),
        ({"target_close_date": "2030-02-30"}, "Give a real date as YYYY-MM-DD."),
        ({"target_close_date": "next friday"}, "Give a real date as YYYY-MM-DD."),
        ({"target_close_date": "1900-01-01"}, "Enter a date between 2000-01-01 and 2100-12-31."),
    ],
)
def test_replan_needs_a_real_date(api, standard, body, message):
    room = standard
    dates = list(Task.objects.filter(room=room).values_list("due_date", flat=True))
    response = api.post(f"/api/v1/rooms/{room.pk}/replan/", body, format="json")
    assert response.status_code == 400
    assert response.json() == {"target_close_date": [message]}
    assert list(Task.objects.filter(room=room).values_list("due_date", flat=True)) == dates
    assert Room.objects.get(pk=room.pk).target_close_date == room.target_close_date


def test_replan_refuses_unknown_fields(api, standard):
    response = api.post(
        f"/api/v1/rooms/{standard.pk}/replan/",
        {"target_close_date": "2030-01-02", "move_done": True},
        format="json",
    )
    assert response.status_code == 400
    assert response.json() == {"move_done": ["Unknown field."]}


def test_replan_of_a_lost_deal_is_refused_like_any_write(api, owner, org, standard):
    from accounts.models import Membership

    room = standard
    membership = Membership.objects.get(user=owner, org=org)
    room_close(
        actor=Actor(user=owner),
        membership=membership,
        room_id=room.pk,
        outcome="lost",
        reason="Budget",
    )
    dates = list(Task.objects.filter(room=room).values_list("due_date", flat=True))
    response = api.post(
        f"/api/v1/rooms/{room.pk}/replan/",
        {"target_close_date": "2099-01-07"},
        format="json",
    )
    assert response.status_code == 409
    assert "read-only" in response.json()["detail"]
    assert list(Task.objects.filter(room=room).values_list("due_date", flat=True)) == dates


@pytest.mark.parametrize("suffix", ["schedule/", "signals/"])
def test_another_organisations_room_is_404_for_reads(outsider_api, standard, suffix):
    response = outsider_api.get(f"/api/v1/rooms/{standard.pk}/{suffix}")
    assert response.status_code == 404


def test_another_organisations_room_is_404_for_replan(outsider_api, standard):
    room = standard
    entries = ActivityEvent.objects.count()
    response = outsider_api.post(
        f"/api/v1/rooms/{room.pk}/replan/", {"target_close_date": "2099-01-07"}, format="json"
    )
    assert response.status_code == 404
    assert Room.objects.get(pk=room.pk).target_close_date == room.target_close_date
    assert ActivityEvent.objects.count() == entries


def test_the_schema_documents_schedule_and_replan(client):
    doc = client.get("/api/v1/schema/?format=json").json()
    paths = doc["paths"]
    replan = paths["/api/v1/rooms/{id}/replan/"]["post"]
    assert replan["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ReplanRequest"
    }
    assert {"200", "400", "404", "409"} <= set(replan["responses"])
    schedule = paths["/api/v1/rooms/{id}/schedule/"]["get"]["responses"]["200"]
    assert schedule["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Schedule"
    }
    blocker = doc["components"]["schemas"]["Blocker"]["properties"]
    assert {"task", "title", "owner", "owner_name", "due_date"} <= set(blocker)
    signals = doc["components"]["schemas"]["Signals"]["properties"]
    assert {"projected_close_date", "slip_days"} <= set(signals)
