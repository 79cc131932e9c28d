"""The template format: one loader for built-ins and organisations' templates, with a
clear message naming each bad item; start-anchored work counted forwards from the
day the plan starts; role-based owners resolved to the room's people."""

import datetime
import json

import pytest

from plans import services
from plans.models import Milestone, Task
from plans.playbook_format import PlaybookError, playbook_dump, playbook_load
from plans.templates_builtin import BUILTIN_TEMPLATES, PLAYBOOKS_DIR, layout
from rooms.actors import Actor
from stakeholders.models import DecisionRole, Side
from tests.factories import RoomFactory, StakeholderFactory

D = datetime.date


def minimal(**milestone):
    return {
        "slug": "pilot",
        "name": "Pilot",
        "milestones": [
            {
                "title": "Pilot done",
                "offset_days": 10,
                "lead_side": "buyer",
                "track": "technical",
                "tasks": [{"title": "Run the pilot", "side": "buyer", "offset_days": 12}],
            }
            | milestone
        ],
    }


def problems(data):
    with pytest.raises(PlaybookError) as info:
        playbook_load(data)
    return info.value.problems


def test_the_builtins_are_data_files_in_the_format_and_round_trip():
    files = sorted(p.stem for p in PLAYBOOKS_DIR.glob("*.json"))
    assert files == sorted(BUILTIN_TEMPLATES)
    assert {"activation", "renewal"} <= set(files)
    for slug, spec in BUILTIN_TEMPLATES.items():
        data = json.loads((PLAYBOOKS_DIR / f"{slug}.json").read_text())
        assert playbook_load(data) == spec
        assert playbook_load(json.loads(json.dumps(playbook_dump(spec)))) == spec


def test_defaults_a_missing_anchor_to_the_close_date_and_a_task_to_its_milestone():
    spec = playbook_load(minimal(anchor="start"))
    milestone = spec.milestones[0]
    assert milestone.anchor == "start" and milestone.tasks[0].anchor == "start"
    assert playbook_load(minimal()).milestones[0].anchor == "close"
    assert milestone.tasks[0].owner_role == "" and milestone.depends_on == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"offset_days": -3}, "Milestone 1 “Pilot done”: “offset_days” must be from 0 to 730."),
        ({"offset_days": "ten"}, "Milestone 1 “Pilot done”: “offset_days” must be a whole number"),
        (
            {"anchor": "kickoff"},
            "Milestone 1 “Pilot done”: “anchor” must be one of “close”, “start”.",
        ),
        ({"lead_side": "both"}, "Milestone 1 “Pilot done”: “lead_side” must be one of"),
        ({"track": "finance"}, "Milestone 1 “Pilot done”: “track” must be one of"),
        ({"depends_on": [0]}, "Milestone 1 “Pilot done”: the first milestone cannot depend"),
        ({"title": ""}, "Milestone 1: “title” is required."),
        ({"ofset_days": 3}, "Milestone 1 “Pilot done”: unknown field “ofset_days”."),
        (
            {"tasks": [{"title": "Sign", "side": "buyer", "offset_days": 1, "owner_role": "cfo"}]},
            "Milestone 1 “Pilot done”, task 1 “Sign”: “owner_role” must be one of",
        ),
    ],
)
def test_a_bad_item_is_named_in_the_message(change, message):
    found = problems(minimal(**change))
    assert any(p.startswith(message) for p in found), found


def test_dependencies_point_at_earlier_milestones_only_and_every_problem_is_listed():
    data = minimal()
    data["milestones"].append(dict(data["milestones"][0], title="Signed", depends_on=[1, 5]))
    data["slug"] = "Not A Slug"
    found = problems(data)
    assert "Milestone 2 “Signed”: “depends_on” 1 is not an earlier milestone" in found[1]
    assert any("“slug” must be lower-case" in p for p in found)
    assert problems([]) == ["A template must be a JSON object."]
    assert problems({"name": "X", "slug": "x", "milestones": []}) == [
        "The template: “milestones” must be a list of at least one."
    ]


def test_start_anchored_work_counts_forward_from_the_start_day():
    spec = BUILTIN_TEMPLATES["activation"]
    today = D(2027, 3, 3)  # a Wednesday
    close = D(2027, 5, 4)  # a Tuesday
    dates = layout(spec, close, today)
    assert not dates.compressed
    # "Onboarding complete" is 3 days after the start, "Team invited" 7 (a Wednesday).
    assert dates.milestones[:2] == [D(2027, 3, 8), D(2027, 3, 10)]  # Saturday → Monday
    assert dates.milestones[-2:] == [D(2027, 4, 27), close]  # 7 days before, and on it


def test_a_mixed_template_compressed_keeps_start_work_before_close_work():
    spec = BUILTIN_TEMPLATES["activation"]
    today = D(2027, 3, 3)
    dates = layout(spec, today + datetime.timedelta(days=11), today)
    assert dates.compressed
    assert dates.milestones == sorted(dates.milestones)
    assert all(today <= d <= today + datetime.timedelta(days=11) for d in dates.milestones)


@pytest.mark.django_db
def test_role_owners_go_to_the_rooms_people_with_that_role_or_stay_unassigned():
    room = RoomFactory()
    champion = StakeholderFactory(room=room, name="Ana Champion", role=DecisionRole.CHAMPION)
    StakeholderFactory(room=room, name="Bo Other", role=DecisionRole.OTHER)
    ae = StakeholderFactory(
        room=room, name="Sam Seller", side=Side.SELLER, role=DecisionRole.ACCOUNT_EXECUTIVE
    )
    services.plan_start(actor=Actor.system(), room=room, template_slug="activation")
    owners = dict(Task.objects.for_room(room).values_list("title", "owner"))
    assert owners["Complete onboarding"] == champion.pk
    assert owners["Invite 3 teammates"] == champion.pk
    assert owners["Discuss the team plan"] == ae.pk
    assert owners["Approve the team plan"] is None  # no economic buyer in the room
    assert owners["Welcome call and onboarding check"] is None  # no CSM either
    assert Milestone.objects.for_room(room).count() == 5
