"""Templates never start in the past: compressed between today and the close date."""

import datetime

import pytest
from django.urls import reverse

from alerts.sweep import sweep_overdue
from plans import services
from plans.models import Milestone, Task
from plans.templates_builtin import BUILTIN_TEMPLATES, layout, needed_days
from rooms.actors import Actor
from tests.factories import RoomFactory

D = datetime.date


def days(n):
    return datetime.timedelta(days=n)


def room_closing_in(n, **fields):
    room = RoomFactory(**fields)
    room.target_close_date = room.today() + days(n)
    room.save()
    return room


@pytest.mark.parametrize("slug", sorted(BUILTIN_TEMPLATES))
def test_layout_fits_between_today_and_the_close_in_the_templates_order(slug):
    spec = BUILTIN_TEMPLATES[slug]
    today = D(2027, 3, 3)  # a Wednesday; the close is a Monday
    close = today + days(12)
    dates = layout(spec, close, today)
    assert dates.compressed
    needed = needed_days([*spec.milestones, *(t for m in spec.milestones for t in m.tasks)])
    # Where the template puts each milestone, in days before the close of its own plan.
    flat_offsets = [
        needed - m.offset_days if m.anchor == "start" else m.offset_days for m in spec.milestones
    ]
    assert all(today <= d <= close for d in dates.milestones)
    assert all(today <= d <= close for row in dates.tasks for d in row)
    # The order is kept: an item planned earlier is never dated later.
    pairs = sorted(zip(flat_offsets, dates.milestones, strict=True), key=lambda p: -p[0])
    assert [d for _, d in pairs] == sorted(d for _, d in pairs)
    assert dates.milestones[-1] == close


def test_layout_with_room_enough_is_the_template_as_written():
    spec = BUILTIN_TEMPLATES["standard"]
    today = D(2027, 1, 4)
    dates = layout(spec, today + days(90), today)
    assert not dates.compressed and dates.squeezed == [] and dates.message == ""
    assert (today + days(90) - dates.milestones[0]).days in (35, 36, 37)  # a weekend moves


def test_a_close_in_three_days_still_makes_the_plan_and_names_the_squeezed_milestones():
    spec = BUILTIN_TEMPLATES["enterprise"]
    today = D(2027, 3, 1)
    dates = layout(spec, today + days(3), today)
    assert all(today <= d <= today + days(3) for d in dates.milestones)
    assert dates.squeezed and set(dates.squeezed) <= {m.title for m in spec.milestones}
    assert "Squeezed" in dates.message and "84 days" in dates.message


def test_a_close_date_already_passed_puts_nothing_before_today():
    today = D(2027, 3, 1)
    dates = layout(BUILTIN_TEMPLATES["light"], today - days(5), today)
    assert all(d >= today for d in dates.milestones)
    assert all(d >= today for row in dates.tasks for d in row)


@pytest.mark.django_db
@pytest.mark.parametrize("slug", sorted(BUILTIN_TEMPLATES))
def test_twelve_days_before_close_nothing_is_created_in_the_past_and_nothing_is_flagged(slug):
    room = room_closing_in(12)
    plan = services.plan_start(actor=Actor.system(), room=room, template_slug=slug)
    today = room.today()
    assert plan.layout.compressed
    assert not Milestone.objects.for_room(room).filter(target_date__lt=today).exists()
    assert not Task.objects.for_room(room).filter(due_date__lt=today).exists()
    assert not Task.objects.for_room(room).filter(due_date__gt=room.target_close_date).exists()
    result = sweep_overdue()
    assert (result.flagged, result.alerted, result.notifications) == (0, 0, 0)
    room.refresh_from_db()
    # On time: the last milestone may land on the working day before a weekend close.
    assert room.slip_days == 0 and room.projected_close_date <= room.target_close_date


@pytest.mark.django_db
def test_the_sweep_never_alerts_on_work_created_already_late(room):
    services.plan_start(actor=Actor.system(), room=room, template_slug="empty")
    plan = room.plan
    milestone = services.milestone_create(
        actor=Actor.system(), room=room, plan=plan, title="Kick-off"
    )
    old = services.task_create(
        actor=Actor.system(),
        room=room,
        milestone=milestone,
        title="Kick-off call (last month)",
        due_date=room.today() - days(20),
    )
    assert sweep_overdue().flagged == 0
    # The same task planned before it fell due is flagged, and alerted.
    Task.objects.filter(pk=old.pk).update(created_at=old.created_at - days(30))
    result = sweep_overdue()
    assert (result.flagged, result.alerted) == (1, 1)  # 20 days late: both levels at once


@pytest.mark.django_db
def test_the_seller_is_told_when_a_template_was_compressed(owner_client, room):
    room.target_close_date = room.today() + days(3)
    room.save()
    response = owner_client.post(
        reverse("plans:start", args=[room.pk]), {"template": "enterprise"}, follow=True
    )
    html = response.content.decode()
    assert "fitted between today and the close date" in html
    assert "Squeezed" in html
