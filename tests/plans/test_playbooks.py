"""The organisation's own templates: written by admins and managers only, checked by
the format's loader, saved from a room's plan, applied as a copy (editing or deleting
a template never changes a room started from it), invisible to other organisations."""

import datetime

import pytest

from accounts.models import Membership, Role
from plans import services
from plans.models import Milestone, Playbook, Task
from plans.playbook_format import PlaybookError
from rooms.actors import Actor
from rooms.models import ActivityEvent
from stakeholders.models import DecisionRole, Side
from tests.factories import MilestoneFactory, PlanFactory, RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db
D = datetime.date

BODY = {
    "name": "Pilot first",
    "motion": "Mid-market",
    "description": "A paid pilot, then the contract.",
    "milestones": [
        {
            "title": "Pilot live",
            "anchor": "start",
            "offset_days": 5,
            "lead_side": "buyer",
            "track": "technical",
            "completion_condition": "Pilot report signed by the evaluator",
            "tasks": [
                {
                    "title": "Run the pilot",
                    "side": "buyer",
                    "owner_role": "technical_evaluator",
                    "offset_days": 5,
                }
            ],
        },
        {
            "title": "Signed",
            "offset_days": 0,
            "lead_side": "buyer",
            "track": "legal",
            "depends_on": [0],
            "tasks": [
                {"title": "Sign", "side": "buyer", "owner_role": "economic_buyer", "offset_days": 0}
            ],
        },
    ],
}


def membership(user):
    return Membership.objects.get(user=user)


@pytest.fixture
def manager(member):
    return membership(member)


def test_a_manager_creates_a_template_with_a_slug_from_its_name(manager):
    first = services.playbook_create(membership=manager, data=BODY)
    second = services.playbook_create(membership=manager, data=BODY)
    assert (first.slug, second.slug) == ("pilot-first", "pilot-first-2")
    assert first.org_id == manager.org_id and first.created_by_id == manager.user_id
    assert first.spec.milestones[1].depends_on == (0,)
    assert first.spec.audience == "Mid-market · 2 tasks"


def test_a_rep_cannot_write_templates(owner, manager):
    rep = membership(owner)
    assert rep.role == Role.REP
    with pytest.raises(services.PlaybookDenied):
        services.playbook_create(membership=rep, data=BODY)
    playbook = services.playbook_create(membership=manager, data=BODY)
    with pytest.raises(services.PlaybookDenied):
        services.playbook_update(membership=rep, playbook_id=playbook.pk, base_version=1, data=BODY)
    with pytest.raises(services.PlaybookDenied):
        services.playbook_delete(membership=rep, playbook_id=playbook.pk)
    assert Playbook.objects.count() == 1


def test_a_bad_template_is_refused_with_the_item_named(manager):
    bad = dict(BODY, milestones=[dict(BODY["milestones"][0], offset_days=-1)])
    with pytest.raises(PlaybookError, match="Milestone 1 “Pilot live”: “offset_days”"):
        services.playbook_create(membership=manager, data=bad)
    assert not Playbook.objects.exists()


def test_an_edit_from_an_older_version_is_refused(manager):
    playbook = services.playbook_create(membership=manager, data=BODY)
    edited = services.playbook_update(
        membership=manager, playbook_id=playbook.pk, base_version=1, data=dict(BODY, name="New")
    )
    assert (edited.name, edited.version, edited.slug) == ("New", 2, "pilot-first")
    with pytest.raises(services.PlaybookChanged, match="changed by someone else"):
        services.playbook_update(
            membership=manager, playbook_id=playbook.pk, base_version=1, data=BODY
        )


def test_another_organisation_never_finds_a_template(manager, outsider, room):
    playbook = services.playbook_create(membership=manager, data=BODY)
    theirs = membership(outsider)
    with pytest.raises(Playbook.DoesNotExist):
        services.playbook_update(
            membership=theirs, playbook_id=playbook.pk, base_version=1, data=BODY
        )
    services.playbook_delete(membership=theirs, playbook_id=playbook.pk)  # finds nothing
    their_room = RoomFactory(org=theirs.org)
    for key in (playbook.pk, playbook.slug):
        with pytest.raises(services.PlanError, match="Unknown template"):
            services.plan_start(actor=Actor.system(), room=their_room, playbook=key)
    assert Playbook.objects.get(pk=playbook.pk).name == "Pilot first"


def test_applying_copies_the_template_and_resolves_roles(manager, room):
    evaluator = StakeholderFactory(room=room, name="Eve Val", role=DecisionRole.TECHNICAL_EVALUATOR)
    playbook = services.playbook_create(membership=manager, data=BODY)
    plan = services.plan_start(actor=Actor.system(), room=room, playbook=playbook.slug)
    assert (plan.template, plan.template_name) == ("", "Pilot first")
    tasks = {t.title: t for t in Task.objects.for_room(room)}
    assert tasks["Run the pilot"].owner == evaluator
    assert tasks["Sign"].owner is None  # nobody is the economic buyer yet
    start = Milestone.objects.for_room(room).get(title="Pilot live")
    assert start.target_date >= room.today()
    event = ActivityEvent.objects.get(room=room, verb="applied_template")
    assert event.target_label == "Pilot first template"

    # Editing, then deleting, the template leaves the room's plan as it was.
    services.playbook_update(
        membership=manager,
        playbook_id=playbook.pk,
        base_version=playbook.version,
        data=dict(BODY, name="Renamed", milestones=BODY["milestones"][:1]),
    )
    services.playbook_delete(membership=manager, playbook_id=playbook.pk)
    assert Milestone.objects.for_room(room).count() == 2
    plan.refresh_from_db()
    assert plan.template_name == "Pilot first"


def test_a_plan_saved_as_a_template_keeps_offsets_from_the_close_and_owners_as_roles(manager):
    room = RoomFactory(org=manager.org, target_close_date=D(2030, 6, 12))
    champion = StakeholderFactory(room=room, role=DecisionRole.CHAMPION)
    ae = StakeholderFactory(room=room, side=Side.SELLER, role=DecisionRole.ACCOUNT_EXECUTIVE)
    someone = StakeholderFactory(room=room, role=DecisionRole.OTHER)
    plan = PlanFactory(room=room, org=room.org)
    first = MilestoneFactory(plan=plan, title="Validated", order=0, target_date=D(2030, 5, 29))
    last = MilestoneFactory(plan=plan, title="Signed", order=1, target_date=D(2030, 6, 20))
    last.depends_on.add(first)
    for order, (title, owner, due) in enumerate(
        [
            ("Trial", champion, D(2030, 5, 22)),
            ("Proposal", ae, D(2030, 6, 2)),
            ("Misc", someone, None),
        ]
    ):
        Task.objects.create(
            org=room.org,
            room=room,
            plan=plan,
            milestone=first,
            order=order,
            title=title,
            owner=owner,
            side=owner.side,
            due_date=due,
        )

    playbook = services.playbook_from_room(membership=manager, room=room, name="Our best deal")
    spec = playbook.spec
    assert [(m.title, m.anchor, m.offset_days, m.depends_on) for m in spec.milestones] == [
        ("Validated", "close", 14, ()),
        ("Signed", "close", 0, (0,)),  # after the close: on it
    ]
    assert [(t.title, t.side, t.owner_role, t.offset_days) for t in spec.milestones[0].tasks] == [
        ("Trial", "buyer", "champion", 21),
        ("Proposal", "seller", "account_executive", 10),
        ("Misc", "buyer", "", 14),  # no date: its milestone's
    ]
    empty = RoomFactory(org=manager.org)
    with pytest.raises(services.PlanError, match="no plan yet"):
        services.playbook_from_room(membership=manager, room=empty, name="Nothing")


@pytest.mark.parametrize("key", ["Ann\r\nLee\x00", "x" * 65, "", "a b", "ü"])
def test_a_key_no_template_could_have_finds_nothing(manager, key):
    """Asked with a value that is no id and no slug (a NUL byte, too long, spaces), the
    lookup answers "no such template" without asking the database."""
    services.playbook_create(membership=manager, data=BODY)
    assert services.playbook_find(manager.org_id, key) is None
