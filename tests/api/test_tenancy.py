"""Tenancy checks generated from the API's router: every registered route, with every
method it answers, tried by an admin of another organisation against this one's ids
(404, nothing written); every list filtered on this organisation's room (empty); and
every writable related field given ids of another organisation or another room (400,
nothing written). A new route or field is covered as soon as it is registered."""

import pytest
from django.db.models import Sum
from rest_framework import serializers
from rest_framework.relations import PrimaryKeyRelatedField

from accounts.models import ApiToken, Role
from api.serializers.base import IdListField
from api.urls import router
from plans.models import Milestone, Plan, Task
from plans.playbook_format import playbook_dump
from plans.services import playbook_create
from plans.templates_builtin import BUILTIN_TEMPLATES
from rooms.models import ActivityEvent, Room
from stakeholders.links import link_issue
from stakeholders.models import AccessLink, Stakeholder
from tests.factories import (
    MembershipFactory,
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)
from webhooks.models import Delivery, Endpoint
from webhooks.services import endpoint_create

from .conftest import api_client_for

pytestmark = pytest.mark.django_db


# A valid body per route basename (ids filled in by ``bodies``).
def bodies(ids):
    return {
        "room": {"name": "X", "buyer_company": "Y", "target_close_date": "2030-01-01"},
        "milestone": {"room": ids["room"], "title": "X", "depends_on": [ids["milestone"]]},
        "task": {"milestone": ids["milestone"], "title": "X", "owner": ids["stakeholder"]},
        "stakeholder": {"room": ids["room"], "name": "X"},
        "link": {},
        "webhook": {"url": "https://crm.example.com/hook", "events": ["room.won"]},
        "template": {},
    }


def _world(org, owner):
    """One of everything in ``org``."""
    from accounts.models import Membership
    from rooms.actors import Actor

    room = RoomFactory(org=org, owner=owner)
    plan = PlanFactory(room=room, org=org)
    milestone = MilestoneFactory(plan=plan)
    buyer = StakeholderFactory(room=room)
    task = TaskFactory(milestone=milestone, owner=buyer)
    link, _ = link_issue(actor=Actor(user=owner), room=room, stakeholder=buyer)
    membership = Membership.objects.get(user=owner, org=org)
    endpoint, _ = endpoint_create(
        membership=membership, url="https://crm.example.com/x", events=["room.won"]
    )
    editor = MembershipFactory(org=org, role=Role.MANAGER)
    data = playbook_dump(BUILTIN_TEMPLATES["standard"])
    del data["slug"]  # a slug of its own, made from the name
    playbook = playbook_create(membership=editor, data=data)
    return {
        "room": room,
        "milestone": milestone,
        "task": task,
        "stakeholder": buyer,
        "link": link,
        "webhook": endpoint,
        "template": playbook,
    }


def state():
    """Everything a request could have written."""
    rows = []
    for model in (Room, Plan, Milestone, Task, Stakeholder):
        agg = model.objects.aggregate(n=Sum("version"))
        rows.append((model.__name__, model.objects.count(), agg["n"]))
    return (
        rows,
        ActivityEvent.objects.count(),
        AccessLink.objects.filter(revoked_at__isnull=True).count(),
        AccessLink.objects.count(),
        Endpoint.objects.count(),
        Delivery.objects.count(),
        Milestone.depends_on.through.objects.count(),
    )


def routes():
    """(basename, detail?, method, url suffix) for every route the router makes."""
    out = []
    for prefix, viewset, basename in router.registry:
        names = set(viewset.http_method_names)
        for method, action in (("get", "list"), ("post", "create")):
            if hasattr(viewset, action):
                out.append((basename, prefix, False, method, ""))
        for method, action in (
            ("get", "retrieve"),
            ("patch", "partial_update"),
            ("put", "update"),
            ("delete", "destroy"),
        ):
            if hasattr(viewset, action) and method in names:
                out.append((basename, prefix, True, method, ""))
        for extra in viewset.get_extra_actions():
            for method in extra.mapping:
                out.append((basename, prefix, extra.detail, method, f"{extra.url_path}/"))
    return out


ROUTES = routes()


def test_the_router_registers_what_these_tests_know():
    known = set(bodies(dict.fromkeys(["room", "milestone", "stakeholder"], "x")))
    assert {basename for _, _, basename in router.registry} == known
    assert len(ROUTES) >= 25


@pytest.mark.parametrize(
    ("basename", "prefix", "detail", "method", "suffix"),
    [r for r in ROUTES if r[2]],
    ids=lambda v: str(v),
)
def test_other_organisations_ids_answer_404_and_write_nothing(
    org, owner, outsider, other_org, basename, prefix, detail, method, suffix
):
    mine = _world(org, owner)
    _world(other_org, outsider)  # the outsider has rows of their own
    api = api_client_for(outsider, other_org)
    ids = {k: str(v.pk) for k, v in mine.items()}
    before = state()
    url = f"/api/v1/{prefix}/{ids[basename]}/{suffix}"
    body = bodies(ids)[basename] if method in ("post", "patch", "put") else None
    response = getattr(api, method)(url, body, format="json", HTTP_IF_MATCH='"1"')
    assert response.status_code == 404, (url, method, response.content)
    assert response["Content-Type"] == "application/json"
    assert state() == before


@pytest.mark.parametrize(
    ("basename", "prefix", "detail", "method", "suffix"),
    [r for r in ROUTES if not r[2] and r[3] == "get"],
    ids=lambda v: str(v),
)
def test_lists_never_include_other_tenants_rows(
    org, owner, outsider, other_org, basename, prefix, detail, method, suffix
):
    mine = _world(org, owner)
    _world(other_org, outsider)
    api = api_client_for(outsider, other_org)
    response = api.get(f"/api/v1/{prefix}/")
    assert response.status_code == 200
    # (Rows without an id are nobody's: the built-in templates.)
    theirs = {row["id"] for row in response.json()["results"] if row["id"] is not None}
    assert str(mine[basename].pk) not in theirs
    assert len(theirs) == 1  # their own row only
    if basename in ("milestone", "task", "stakeholder"):
        filtered = api.get(f"/api/v1/{prefix}/", {"room": str(mine["room"].pk)})
        assert filtered.status_code == 200 and filtered.json()["count"] == 0


def writable_related_fields():
    """(basename, prefix, field name, related model) for every writable id field."""
    out = []
    for prefix, viewset, basename in router.registry:
        serializer_class = viewset.serializer_class
        for name, field in serializer_class().fields.items():
            if field.read_only:
                continue
            if isinstance(field, PrimaryKeyRelatedField):
                out.append((basename, prefix, name, field.queryset.model))
            elif isinstance(field, IdListField):
                out.append((basename, prefix, name, Milestone))
            elif isinstance(field, serializers.ManyRelatedField):
                out.append((basename, prefix, name, field.child_relation.queryset.model))
    return out


RELATED = writable_related_fields()


def test_every_writable_related_field_is_known():
    assert {(b, n) for b, _, n, _ in RELATED} == {
        ("milestone", "room"),
        ("milestone", "depends_on"),
        ("task", "room"),
        ("task", "milestone"),
        ("task", "owner"),
        ("stakeholder", "room"),
    }


@pytest.mark.parametrize("where", ["other organisation", "other room"])
@pytest.mark.parametrize(("basename", "prefix", "field", "model"), RELATED, ids=str)
def test_related_ids_outside_the_room_are_refused(
    org, owner, outsider, other_org, where, basename, prefix, field, model
):
    mine = _world(org, owner)
    # Another organisation's rows, or a second room of the same organisation.
    elsewhere = _world(other_org, outsider) if where == "other organisation" else _world(org, owner)
    api = api_client_for(owner, org)
    key = {Room: "room", Milestone: "milestone", Stakeholder: "stakeholder"}[model]
    ids = {k: str(v.pk) for k, v in mine.items()}
    other_id = str(elsewhere[key].pk)
    before = state()

    # On create.
    body = dict(bodies(ids)[basename])
    body[field] = [other_id] if field == "depends_on" else other_id
    if where == "other room" and field == "room" and basename == "stakeholder":
        # A new person may go in another room of the organisation (no other ids to
        # clash); for the others, this room's ids in the same body must be refused.
        body = None
    if body is not None:
        response = api.post(f"/api/v1/{prefix}/", body, format="json")
        assert response.status_code == 400, (body, response.content)
        assert state() == before

    # On change.
    target = mine[basename]
    response = api.patch(
        f"/api/v1/{prefix}/{target.pk}/",
        {field: [other_id] if field == "depends_on" else other_id},
        format="json",
        HTTP_IF_MATCH=f'"{target.version}"',
    )
    assert response.status_code == 400, response.content
    assert state() == before


def test_a_revoked_token_opens_nothing(org, owner, room):
    api = api_client_for(owner, org)
    assert api.get("/api/v1/rooms/").status_code == 200
    ApiToken.objects.update(revoked_at="2026-01-01T00:00:00Z")
    assert api.get("/api/v1/rooms/").status_code == 401


def test_a_viewset_cannot_start_from_every_organisations_rows():
    """Viewsets narrow their organisation's rows (extend_queryset); one that would
    build its own queryset is refused when its class is defined."""
    from api.views import OrgViewSet

    with pytest.raises(TypeError, match="extend_queryset"):

        class Careless(OrgViewSet):
            def get_queryset(self):
                return Task.objects.all()

    for _, viewset, basename in router.registry:
        assert viewset.model is not None, basename
        assert "get_queryset" not in vars(viewset), basename
