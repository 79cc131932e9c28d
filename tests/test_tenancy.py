"""Every URL with an id, tried across tenants: each room URL by the room's owner, a
member of the same organisation and an outsider (an admin of another organisation),
who gets 404 and changes nothing; a buyer's URLs with another organisation's ids;
an organisation's settings by another organisation's admin. A walk of the URL
resolver fails on any URL with an id that none of these matrices lists."""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from documents.models import Document
from documents.services import document_upload
from plans.models import Task
from rooms.actors import Actor
from rooms.models import ActivityEvent
from stakeholders.calendar import feed_issue
from stakeholders.links import link_issue
from tests.conftest import buyer_client, login
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
    stakeholder = StakeholderFactory(room=room)
    return {
        "room": room,
        "milestone": milestone,
        "task": TaskFactory(milestone=milestone),
        "criterion": DecisionCriterionFactory(plan=plan),
        "risk": RiskFactory(plan=plan),
        "stakeholder": stakeholder,
        "document": a_document(room),
        "link": link_issue(actor=Actor.system(), room=room, stakeholder=stakeholder)[0],
        "feed": feed_issue(actor=Actor.system(), room=room, stakeholder=stakeholder)[0],
    }


# (method, url name, object the url points at, post data)
ROUTES = [
    ("get", "plans:room", None, None),
    ("get", "rooms:activity", None, None),
    ("get", "room_alerts", None, None),
    ("post", "rooms:save", None, {"_field": "goal", "goal": "x", "version": 1}),
    ("post", "plans:start", None, {"template": "light"}),
    ("get", "plans:start_choices", None, None),
    ("get", "plans:start_preview", None, None),
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
    ("post", "documents:upload", None, {}),
    ("post", "plans:plan_fix", None, {"code": "no_owner", "target": ""}),
    ("post", "plans:comment_add", "task", {"body": "Looks right"}),
    ("get", "stakeholders:access", "stakeholder", None),
    ("post", "stakeholders:scope", "stakeholder", {"scope": "track", "track": "legal"}),
    ("post", "stakeholders:link_issue", "stakeholder", {"days": "30"}),
    ("post", "stakeholders:link_revoke", ("stakeholder", "link"), {}),
    ("post", "stakeholders:feed_revoke", ("stakeholder", "feed"), {}),
    ("get", "checkins:page", None, None),
    ("post", "checkins:mark", "task", {"mark": "at_risk", "note": "x", "version": 1}),
    ("post", "checkins:finish", None, {"notes": "x", "since": 0}),
]


def url_for(objects, name, target):
    targets = target if isinstance(target, tuple) else (target,) if target else ()
    return reverse(name, args=[objects["room"].pk, *(objects[t].pk for t in targets)])


def call(client, method, url, data):
    return getattr(client, method)(url, data or {}, **HX)


@pytest.mark.parametrize("who", ["owner", "member"])
@pytest.mark.parametrize(("method", "name", "target", "data"), ROUTES)
def test_owner_and_member_reach_every_url(request, who, objects, method, name, target, data):
    user = request.getfixturevalue(who)
    response = call(login(user), method, url_for(objects, name, target), data)
    # Reached: answered, redirected, or refused by the view itself (a form's errors, a
    # fix that no longer applies).
    assert response.status_code in (200, 302, 409, 422), response.status_code


@pytest.mark.parametrize(("method", "name", "target", "data"), ROUTES)
def test_outsider_gets_404_everywhere_and_changes_nothing(
    outsider, objects, method, name, target, data
):
    before = ActivityEvent.objects.count()
    response = call(login(outsider), method, url_for(objects, name, target), data)
    assert response.status_code == 404
    assert ActivityEvent.objects.count() == before


# Room URLs for the organisation's admins and managers only: a rep of the same
# organisation gets 404 too.
EDITOR_ROOM_ROUTES = [
    ("get", "plans:save_as_template", None, None),
    ("post", "plans:save_as_template", None, {"name": "From this room"}),
]


@pytest.mark.parametrize(("method", "name", "target", "data"), EDITOR_ROOM_ROUTES)
def test_a_manager_reaches_room_template_urls_a_rep_and_an_outsider_do_not(
    owner, member, outsider, objects, method, name, target, data
):
    from plans.models import Playbook

    url = url_for(objects, name, target)
    for user in (owner, outsider):
        assert call(login(user), method, url, data).status_code == 404
    assert not Playbook.objects.exists()
    assert call(login(member), method, url, data).status_code in (200, 302)


def a_foreign_room():
    """One of everything in a room of another organisation."""
    foreign_room = RoomFactory()
    foreign_plan = PlanFactory(room=foreign_room, org=foreign_room.org)
    foreign_ms = MilestoneFactory(plan=foreign_plan)
    person = StakeholderFactory(room=foreign_room)
    return {
        "room": foreign_room,
        "milestone": foreign_ms,
        "task": TaskFactory(milestone=foreign_ms),
        "criterion": DecisionCriterionFactory(plan=foreign_plan),
        "risk": RiskFactory(plan=foreign_plan),
        "stakeholder": person,
        "document": a_document(foreign_room),
        "link": link_issue(actor=Actor.system(), room=foreign_room, stakeholder=person)[0],
        "feed": feed_issue(actor=Actor.system(), room=foreign_room, stakeholder=person)[0],
    }


@pytest.mark.parametrize(
    ("method", "name", "target", "data"), [r for r in ROUTES if r[2] is not None]
)
def test_foreign_object_ids_under_ones_own_room_are_404(owner, objects, method, name, target, data):
    """A member's own room with an object id from another organisation's room (for a
    link or feed: under one's own stakeholder too)."""
    foreign = a_foreign_room()
    if isinstance(target, tuple):
        url = reverse(name, args=[objects["room"].pk, objects[target[0]].pk, foreign[target[1]].pk])
    else:
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


def test_the_live_poll_answers_only_its_rooms_members(owner, outsider, objects):
    """The poll reads no session: its signed ticket names the viewer and the room, and
    the poll checks the membership again (a ticket signed for anyone else is refused)."""
    from plans.live.tickets import seller_ticket

    url = reverse("plans:live", args=[objects["room"].pk])

    def poll(user):
        ticket = seller_ticket(user.pk, objects["room"].pk)
        return login(user).get(url, {"rev": "0"}, HTTP_X_LIVE_TICKET=ticket)

    assert poll(owner).status_code in (200, 204)
    response = poll(outsider)
    assert response.status_code in (403, 404)
    assert objects["task"].title.encode() not in response.content


# --- a buyer's routes: ids of another organisation's room through one's own link ----------

# (method, url name, object the url points at, post data)
BUYER_ROUTES = [
    ("post", "buyer:task_save", "task", {"_field": "notes", "notes": "x", "version": 1}),
    ("get", "buyer:task_edit", "task", None),
    ("post", "buyer:comment_add", "task", {"body": "Hi"}),
    ("post", "buyer:task_viewed", "task", {}),
    ("post", "buyer:task_add", "milestone", {"title": "New"}),
    ("get", "buyer_documents:download", "document", None),
]


@pytest.mark.parametrize(("method", "name", "target", "data"), BUYER_ROUTES)
def test_a_buyer_reaches_no_other_rooms_ids(objects, method, name, target, data):
    buyer = buyer_client(objects["stakeholder"])
    foreign = a_foreign_room()
    before = (ActivityEvent.objects.count(), Task.objects.count())
    response = call(buyer, method, reverse(name, args=[foreign[target].pk]), data)
    assert response.status_code == 404
    assert (ActivityEvent.objects.count(), Task.objects.count()) == before


# --- an organisation's own settings: another organisation's admin, this one's ids ---------


def _org_objects(org, owner, member):
    from accounts.models import Membership
    from accounts.services import api_token_create, invitation_create
    from alerts.models import Notification
    from webhooks.models import Delivery
    from webhooks.services import endpoint_create

    admin = Membership.objects.get(org=org, user=owner)
    endpoint, _ = endpoint_create(
        membership=admin, url="https://crm.example.com/hook", events=["room.won"]
    )
    from plans.services import playbook_create

    return {
        "playbook": playbook_create(
            membership=Membership.objects.get(org=org, user=member),
            data={
                "name": "Ours",
                "milestones": [
                    {"title": "Signed", "offset_days": 0, "lead_side": "buyer", "track": "legal"}
                ],
            },
        ),
        "membership": Membership.objects.get(org=org, user=member),
        "invitation": invitation_create(
            org=org, invited_by=owner, email="new@example.com", role="rep"
        )[0],
        "api_token": api_token_create(membership=admin, name="CRM")[0],
        "notification": Notification.objects.create(
            org=org,
            recipient="channel",
            payload={"text": "x"},
            status="failed",
            next_attempt_at=datetime.datetime.now(datetime.UTC),
        ),
        "endpoint": endpoint,
        "delivery": Delivery.objects.create(
            org=org,
            endpoint=endpoint,
            event_id="evt_1",
            event_type="room.won",
            event_time=datetime.datetime.now(datetime.UTC),
            payload={"id": "evt_1"},
            status="failed",
        ),
    }


ORG_ROUTES = [
    ("post", "accounts:member_role", "membership", {"role": "admin"}),
    ("post", "accounts:member_remove", "membership", {}),
    ("post", "accounts:invitation_revoke", "invitation", {}),
    ("post", "accounts:api_token_revoke", "api_token", {}),
    ("post", "alerts:retry", "notification", {}),
    ("post", "webhooks:delete", "endpoint", {}),
    ("post", "webhooks:resend", "delivery", {}),
    ("get", "playbooks:edit", "playbook", None),
    ("post", "playbooks:edit", "playbook", {"name": "Theirs", "m-count": "0", "version": "1"}),
    ("get", "playbooks:delete", "playbook", None),
    ("post", "playbooks:delete", "playbook", {}),
]


def _snapshot(obj):
    return type(obj)._default_manager.filter(pk=obj.pk).values().first()


@pytest.mark.parametrize(("method", "name", "target", "data"), ORG_ROUTES)
def test_another_organisations_admin_reaches_none_of_its_settings(
    org, owner, member, outsider, method, name, target, data
):
    objects = _org_objects(org, owner, member)
    before = _snapshot(objects[target])
    response = call(login(outsider), method, reverse(name, args=[objects[target].pk]), data)
    assert response.status_code == 404
    assert _snapshot(objects[target]) == before


# --- every route with an id is in one of the matrices above --------------------------------

# The id in these is a secret the visitor holds (a signed or hashed token), not a row
# they might guess: the token-guessing limit and the tests of each cover them.
TOKEN_ROUTES = {
    "accounts:password_reset_confirm",
    "accounts:invitation_accept",
    "buyer:open",
    "calendar_feed",
    "email_stop",
    "email_new_link",
}


def _routes_with_ids():
    from django.urls import URLResolver, get_resolver

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                inner = ":".join(n for n in (namespace, pattern.namespace) if n)
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
            elif "<" in str(pattern.pattern):
                name = f"{namespace}:{pattern.name}" if namespace else pattern.name
                yield prefix + str(pattern.pattern), name

    return list(walk(get_resolver().url_patterns, "", ""))


def test_every_route_with_an_id_is_in_a_cross_tenant_matrix():
    """A new URL with an id fails here until it is added to a matrix above. The API's
    routes are generated from its router in tests/api/test_tenancy.py, and the admin's
    are scoped by accounts.admin.OrgScopedAdmin (tests/*/test_admin.py)."""
    covered = {r[1] for r in ROUTES + BUYER_ROUTES + ORG_ROUTES + EDITOR_ROOM_ROUTES}
    covered |= TOKEN_ROUTES
    covered.add("plans:live")  # test_the_live_poll_answers_only_its_rooms_members
    routes = _routes_with_ids()
    missing = sorted(
        f"{name} ({route})"
        for route, name in routes
        if not route.startswith(("admin/", "api/")) and name not in covered
    )
    assert not missing, missing
    assert len(routes) > 60  # the walk found the app's routes
