"""Every room URL, tried by the room's owner, a member of the same organisation and an
outsider (an admin of another organisation). Outsiders get 404 and change nothing."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Document
from documents.services import document_upload
from plans.models import Task
from rooms.models import ActivityEvent
from rooms.services import Actor
from tests.conftest import login
from tests.factories import (
    DecisionCriterionFactory,
    MilestoneFactory,
    PlanFactory,
    RiskFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


def a_document(room):
    upload = SimpleUploadedFile("notes.txt", b"meeting notes")
    return document_upload(actor=Actor.system(), room=room, upload=upload)


@pytest.fixture
def objects(room):
    room.review_weekday, room.review_time = 1, datetime.time(10, 0)
    room.save()
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    return {
        "room": room,
        "milestone": milestone,
        "task": TaskFactory(milestone=milestone),
        "criterion": DecisionCriterionFactory(plan=plan),
        "risk": RiskFactory(plan=plan),
        "stakeholder": StakeholderFactory(room=room),
        "document": a_document(room),
    }


# (method, url name, object the url points at, post data)
ROUTES = [
    ("get", "plans:room", None, None),
    ("get", "rooms:activity", None, None),
    ("get", "room_alerts", None, None),
    ("post", "rooms:save", None, {"_field": "goal", "goal": "x", "version": 1}),
    ("post", "plans:start", None, {"template": "light"}),
    ("get", "plans:replan", None, None),
    ("post", "plans:replan", None, {"action": "keep"}),
    ("post", "plans:milestone_add", None, {"title": "New", "lead_side": "buyer"}),
    ("post", "plans:milestone_save", "milestone", {"_field": "title", "title": "x", "version": 1}),
    ("post", "plans:milestone_move", "milestone", {"direction": "up"}),
    ("post", "plans:milestone_delete", "milestone", {}),
    ("post", "plans:task_add", "milestone", {"title": "New"}),
    ("post", "plans:task_save", "task", {"_field": "title", "title": "x", "version": 1}),
    ("post", "plans:task_move", "task", {"direction": "up"}),
    ("post", "plans:task_delete", "task", {}),
    ("post", "plans:criterion_add", None, {"title": "New"}),
    ("post", "plans:criterion_save", "criterion", {"_field": "title", "title": "x", "version": 1}),
    ("post", "plans:criterion_delete", "criterion", {}),
    ("post", "plans:risk_add", None, {"title": "New", "impact": "low"}),
    ("post", "plans:risk_save", "risk", {"_field": "title", "title": "x", "version": 1}),
    ("post", "plans:risk_delete", "risk", {}),
    ("post", "stakeholders:add", None, {"name": "Ann Lee", "side": "buyer", "role": "other"}),
    ("post", "stakeholders:save", "stakeholder", {"_field": "title", "title": "x", "version": 1}),
    ("post", "stakeholders:delete", "stakeholder", {}),
    ("post", "stakeholders:feed_issue", "stakeholder", {}),
    ("get", "plans:pdf", None, None),
    ("get", "plans:review_ics", None, None),
    ("post", "plans:outcome", None, {"action": "won"}),
    ("post", "plans:handover", None, {"cs_owner": ""}),
    ("get", "documents:section", None, None),
    ("get", "documents:download", "document", None),
    ("post", "documents:delete", "document", {}),
]


def url_for(objects, name, target):
    args = [objects["room"].pk]
    if target:
        args.append(objects[target].pk)
    return reverse(name, args=args)


def call(client, method, url, data):
    return getattr(client, method)(url, data or {}, **HX)


@pytest.mark.parametrize("who", ["owner", "member"])
@pytest.mark.parametrize(("method", "name", "target", "data"), ROUTES)
def test_owner_and_member_reach_every_url(request, who, objects, method, name, target, data):
    user = request.getfixturevalue(who)
    response = call(login(user), method, url_for(objects, name, target), data)
    assert response.status_code in (200, 302), response.status_code


@pytest.mark.parametrize(("method", "name", "target", "data"), ROUTES)
def test_outsider_gets_404_everywhere_and_changes_nothing(
    outsider, objects, method, name, target, data
):
    before = ActivityEvent.objects.count()
    response = call(login(outsider), method, url_for(objects, name, target), data)
    assert response.status_code == 404
    assert ActivityEvent.objects.count() == before


@pytest.mark.parametrize(
    ("method", "name", "target", "data"), [r for r in ROUTES if r[2] is not None]
)
def test_foreign_object_ids_under_ones_own_room_are_404(owner, objects, method, name, target, data):
    """A member's own room with an object id from another organisation's room."""
    foreign_room = RoomFactory()
    foreign_plan = PlanFactory(room=foreign_room, org=foreign_room.org)
    foreign_ms = MilestoneFactory(plan=foreign_plan)
    foreign = {
        "milestone": foreign_ms,
        "task": TaskFactory(milestone=foreign_ms),
        "criterion": DecisionCriterionFactory(plan=foreign_plan),
        "risk": RiskFactory(plan=foreign_plan),
        "stakeholder": StakeholderFactory(room=foreign_room),
        "document": a_document(foreign_room),
    }
    url = reverse(name, args=[objects["room"].pk, foreign[target].pk])
    response = call(login(owner), method, url, data)
    assert response.status_code == 404
    assert Task.objects.filter(pk=foreign["task"].pk).exists()
    assert Document.objects.filter(pk=foreign["document"].pk).exists()


def test_uploads_reach_only_ones_own_rooms(owner, outsider, objects):
    url = reverse("documents:upload", args=[objects["room"].pk])
    response = login(outsider).post(url, {"file": SimpleUploadedFile("x.txt", b"x")}, **HX)
    assert response.status_code == 404
    response = login(owner).post(url, {"file": SimpleUploadedFile("x.txt", b"x")}, **HX)
    assert response.status_code == 200
    assert Document.objects.filter(room=objects["room"]).count() == 2


def test_room_list_shows_only_the_members_organisation(owner, outsider, room):
    assert room.name in login(owner).get(reverse("rooms:list")).content.decode()
    assert room.name not in login(outsider).get(reverse("rooms:list")).content.decode()


@pytest.mark.parametrize("name", ["dashboard:index", "dashboard:export"])
def test_dashboard_and_its_export_show_only_the_members_organisation(owner, outsider, room, name):
    def body(user):
        response = login(user).get(reverse(name))
        assert response.status_code == 200
        if response.streaming:
            return b"".join(response.streaming_content).decode()
        return response.content.decode()

    assert room.name in body(owner)
    assert room.name not in body(outsider)


def test_signed_out_visitors_are_sent_to_sign_in(objects):
    from django.test import Client

    response = Client().get(reverse("plans:room", args=[objects["room"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_expired_seller_session_sends_htmx_to_the_sign_in_page(objects):
    from django.test import Client

    url = reverse("plans:task_save", args=[objects["room"].pk, objects["task"].pk])
    response = Client().post(
        url,
        {"_field": "title", "title": "x", "version": 1},
        **HX,
        HTTP_HX_CURRENT_URL="http://testserver/rooms/x/",
    )
    assert response.status_code == 401
    assert response["HX-Redirect"].startswith("/accounts/login/?next=")
