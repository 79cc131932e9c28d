"""The built-in templates produce the plans they always produced: titles, dates, sides,
tracks, completion conditions and dependencies, for a room with room enough and for
one where the template is compressed between today and the close date. The expected
plans (builtin_plans.json beside this file) were written down from the templates as
they were when they were Python code, before they became data files."""

import datetime
import json
from pathlib import Path

import pytest

from plans import services
from plans.models import Milestone, Task
from plans.templates_builtin import BUILTIN_TEMPLATES, layout
from rooms.actors import Actor
from tests.factories import RoomFactory

EXPECTED = json.loads((Path(__file__).parent / "builtin_plans.json").read_text())
CLOSE = datetime.date(2030, 6, 12)  # a Wednesday, years away: room enough
SHORT = (datetime.date(2027, 3, 3), datetime.date(2027, 3, 15))  # today, close: compressed


def plan_as_started(room):
    milestones = list(Milestone.objects.for_room(room).prefetch_related("depends_on"))
    return {
        "milestones": [
            {
                "title": m.title,
                "target_date": m.target_date.isoformat(),
                "lead_side": m.lead_side,
                "track": m.track,
                "completion_condition": m.completion_condition,
                "depends_on": sorted(d.title for d in m.depends_on.all()),
                "tasks": [
                    {"title": t.title, "side": t.side, "due_date": t.due_date.isoformat()}
                    for t in Task.objects.for_room(room).filter(milestone=m)
                ],
            }
            for m in milestones
        ]
    }


def compressed(spec):
    today, close = SHORT
    dates = layout(spec, close, today)
    return {
        "milestones": [d.isoformat() for d in dates.milestones],
        "tasks": [[d.isoformat() for d in row] for row in dates.tasks],
        "squeezed": dates.squeezed,
        "message": dates.message,
    }


@pytest.mark.django_db
@pytest.mark.parametrize("slug", ["light", "standard", "enterprise"])
def test_a_builtin_template_starts_the_plan_it_always_did(slug):
    room = RoomFactory(target_close_date=CLOSE)
    services.plan_start(actor=Actor.system(), room=room, template_slug=slug)
    assert plan_as_started(room) == EXPECTED[slug]["plan"]
    spec = BUILTIN_TEMPLATES[slug]
    assert (spec.name, spec.audience, spec.description) == tuple(EXPECTED[slug]["card"])


@pytest.mark.parametrize("slug", ["light", "standard", "enterprise"])
def test_a_builtin_template_is_compressed_as_it_always_was(slug):
    assert compressed(BUILTIN_TEMPLATES[slug]) == EXPECTED[slug]["compressed"]
