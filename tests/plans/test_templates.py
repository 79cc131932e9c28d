import datetime

import pytest

from plans import services
from plans.models import Milestone, Task
from plans.templates_builtin import BUILTIN_TEMPLATES, schedule_backwards, schedule_forward
from rooms.actors import Actor
from rooms.models import ActivityEvent
from tests.factories import RoomFactory

D = datetime.date


@pytest.mark.parametrize(
    ("close", "days", "expected"),
    [
        (D(2027, 3, 10), 21, D(2027, 2, 17)),  # across a month boundary, a Wednesday
        (D(2027, 1, 12), 21, D(2026, 12, 22)),  # across a year boundary
        (D(2028, 3, 14), 14, D(2028, 2, 29)),  # into a leap day
        (D(2027, 3, 1), 1, D(2027, 2, 26)),  # lands on Sunday 28 Feb → Friday 26
    ],
)
def test_schedule_backwards_across_month_and_year_boundaries(close, days, expected):
    assert schedule_backwards(close, days) == expected


def test_weekend_dates_move_to_the_friday_before_even_across_a_year():
    # 2027-01-02 is a Saturday and 2027-01-03 a Sunday: both become Friday 2027-01-01.
    assert schedule_backwards(D(2027, 1, 4), 2) == D(2027, 1, 1)
    assert schedule_backwards(D(2027, 1, 4), 1) == D(2027, 1, 1)
    # Saturday 2026-01-03 → Friday 2026-01-02; Sunday 2028-01-02 → Friday 2027-12-31.
    assert schedule_backwards(D(2026, 1, 5), 2) == D(2026, 1, 2)
    assert schedule_backwards(D(2028, 1, 3), 1) == D(2027, 12, 31)


@pytest.mark.parametrize(
    ("slug", "low", "high"),
    [
        ("light", 5, 8),
        ("standard", 10, 15),
        ("enterprise", 15, 25),
        ("activation", 5, 10),
        ("renewal", 5, 15),
    ],
)
def test_builtin_template_sizes(slug, low, high):
    assert low <= BUILTIN_TEMPLATES[slug].task_count <= high


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(BUILTIN_TEMPLATES))
def test_starting_from_a_template_lays_dates_out_backwards(slug):
    room = RoomFactory()
    room.target_close_date = room.today() + datetime.timedelta(days=120)  # room enough
    room.save()
    spec = BUILTIN_TEMPLATES[slug]

    services.plan_start(actor=Actor.system(), room=room, template_slug=slug)

    milestones = list(Milestone.objects.for_room(room))
    assert [m.title for m in milestones] == [m.title for m in spec.milestones]
    for m, s in zip(milestones, spec.milestones, strict=True):
        if s.anchor == "start":  # counted forwards from the day the plan starts
            assert m.target_date == schedule_forward(room.today(), s.offset_days)
        else:
            assert m.target_date == schedule_backwards(room.target_close_date, s.offset_days)
        assert m.target_date <= room.target_close_date
        assert m.target_date.weekday() < 5
        assert m.completion_condition
    assert Task.objects.for_room(room).count() == spec.task_count
    # Dependencies come along: every milestone after the first depends on an earlier one.
    assert all(m.depends_on.exists() for m in milestones[1:])
    assert ActivityEvent.objects.filter(room=room, verb="applied_template").count() == 1


@pytest.mark.django_db
def test_unknown_template_and_second_start_are_refused_with_a_message():
    room = RoomFactory()
    with pytest.raises(services.PlanError, match="Unknown template"):
        services.plan_start(actor=Actor.system(), room=room, template_slug="mega")
    services.plan_start(actor=Actor.system(), room=room, template_slug="empty")
    with pytest.raises(services.PlanError, match="already has a plan"):
        services.plan_start(actor=Actor.system(), room=room, template_slug="light")
    assert Milestone.objects.for_room(room).count() == 0
