"""The demo room comes with last week's check-in (seed_demo runs seed_demo_checkins)."""

import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from checkins.models import CheckIn
from rooms.models import ActivityEvent, Room

pytestmark = pytest.mark.django_db


def test_the_demo_room_was_checked_in_last_week_once():
    call_command("seed_demo")
    call_command("seed_demo")  # a second run adds nothing
    room = Room.objects.get(buyer_company="Acme Corp")
    (checkin,) = CheckIn.objects.for_room(room)
    week = timezone.now() - datetime.timedelta(days=7)
    assert abs(room.last_check_in_at - week) < datetime.timedelta(minutes=5)
    assert sorted(p.name for p in checkin.attendees.all()) == ["Maria Lopez", "Sarah Kim"]
    entry = ActivityEvent.objects.get(room=room, verb=ActivityEvent.Verb.CHECKED_IN)
    assert abs(entry.created_at - week) < datetime.timedelta(minutes=5)
