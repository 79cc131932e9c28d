"""The "last check-in" signal: in the API's signals, a sortable dashboard column and the
CSV, and the zombie badge for a room that missed two weekly review slots."""

import csv
import datetime
import io
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from checkins.services import checkin_finish
from plans import health
from plans.health import room_signals
from rooms.actors import Actor
from rooms.models import Room
from tests.api.conftest import api_client_for
from tests.factories import PlanFactory, RoomFactory

pytestmark = pytest.mark.django_db
URL = reverse("dashboard:index")


def names(response):
    return re.findall(r'class="deal-link">([^<]+)</a>', response.content.decode())


def started(room, *, days_ago, slot=True):
    """A room whose plan started ``days_ago``, with a Monday review slot (or none)."""
    room.plan_started_at = timezone.now() - datetime.timedelta(days=days_ago)
    if slot:
        room.review_weekday, room.review_time = 0, datetime.time(10, 0)
    room.save()
    PlanFactory(room=room, org=room.org)
    return room


def test_finishing_a_check_in_shows_in_the_api_signals(owner, org, room):
    started(room, days_ago=3)
    api = api_client_for(owner, org)
    url = f"/api/v1/rooms/{room.pk}/signals/"
    assert api.get(url).json()["last_check_in_at"] is None
    checkin = checkin_finish(actor=Actor(user=owner), room=room, notes="Fine")
    body = api.get(url).json()
    assert body["last_check_in_at"] is not None
    parsed = datetime.datetime.fromisoformat(body["last_check_in_at"].replace("Z", "+00:00"))
    assert parsed == checkin.created_at


def test_two_missed_review_slots_make_a_zombie(owner, room):
    now = timezone.now()
    started(room, days_ago=15)
    assert "zombie" in room_signals(room, now=now).badges
    checkin_finish(actor=Actor(user=owner), room=room)
    assert "zombie" not in room_signals(room, now=now).badges
    # Two weeks without one again.
    assert "zombie" in room_signals(room, now=now + datetime.timedelta(days=15)).badges


def test_a_room_without_a_review_slot_or_a_recent_plan_is_not_a_zombie_for_it(org, owner):
    now = timezone.now()
    no_slot = started(RoomFactory(org=org, owner=owner), days_ago=30, slot=False)
    fresh = started(RoomFactory(org=org, owner=owner), days_ago=10)
    assert "zombie" not in room_signals(no_slot, now=now).badges
    assert "zombie" not in room_signals(fresh, now=now).badges


@pytest.mark.parametrize("offset", [0, 13, 15, 40])
def test_the_zombie_filter_agrees_with_the_badge(org, owner, offset):
    rooms = [
        started(RoomFactory(org=org, owner=owner), days_ago=20),
        started(RoomFactory(org=org, owner=owner), days_ago=20, slot=False),
        started(RoomFactory(org=org, owner=owner), days_ago=2),
        RoomFactory(org=org, owner=owner, review_weekday=0, review_time=datetime.time(9)),
    ]
    checkin_finish(actor=Actor(user=owner), room=rooms[0])
    now = timezone.now() + datetime.timedelta(days=offset)
    for room in rooms:
        in_sql = Room.objects.filter(pk=room.pk).filter(health.badge_filter("zombie", now)).exists()
        assert in_sql == ("zombie" in room_signals(room, now=now).badges), (room.name, offset)


def test_the_dashboard_shows_and_sorts_by_last_check_in(member_client, org, owner):
    early = started(RoomFactory(org=org, owner=owner, name="Early"), days_ago=20)
    late = started(RoomFactory(org=org, owner=owner, name="Late"), days_ago=20)
    started(RoomFactory(org=org, owner=owner, name="Never"), days_ago=20)
    checkin_finish(actor=Actor(user=owner), room=early)
    Room.objects.filter(pk=early.pk).update(
        last_check_in_at=timezone.now() - datetime.timedelta(days=9)
    )
    checkin_finish(actor=Actor(user=owner), room=late)
    response = member_client.get(URL, {"sort": "check_in"})
    assert names(response) == ["Never", "Early", "Late"]
    assert names(member_client.get(URL, {"sort": "-check_in"})) == ["Late", "Early", "Never"]
    html = response.content.decode()
    assert "Last check-in" in html and "9 days ago" in html
    # The zombie badge names the missed cadence in its help text.
    assert "no check-in for two weekly review slots" in html

    export = member_client.get(reverse("dashboard:export"), {"sort": "check_in"})
    body = b"".join(export.streaming_content).decode()
    rows = {r["Deal"]: r for r in csv.DictReader(io.StringIO(body))}
    assert rows["Never"]["Last check-in"] == ""
    assert rows["Late"]["Last check-in"]
