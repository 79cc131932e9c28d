"""Closing a deal (won or lost, with a reason) and reopening it."""

import pytest

from accounts.models import Membership
from rooms.actors import Actor
from rooms.models import ActivityEvent, Outcome, Room
from rooms.services import OutcomeError, room_close, room_reopen

pytestmark = pytest.mark.django_db


@pytest.fixture
def membership(owner, org):
    return Membership.objects.get(user=owner, org=org)


def test_won_records_time_reason_and_activity(room, owner, membership):
    closed = room_close(
        actor=Actor(user=owner),
        membership=membership,
        room_id=room.pk,
        outcome=Outcome.WON,
        reason="Signed at the CFO review",
    )
    assert closed.outcome == Outcome.WON
    assert closed.closed_at is not None
    assert closed.outcome_reason == "Signed at the CFO review"
    assert closed.revision == room.revision + 1
    event = ActivityEvent.objects.get(room=room, verb=ActivityEvent.Verb.WON)
    assert event.changes["outcome"] == {"label": "Outcome", "from": "Open", "to": "Won"}


def test_lost_needs_a_reason_and_nothing_changes_without_one(room, owner, membership):
    with pytest.raises(OutcomeError, match="why"):
        room_close(
            actor=Actor(user=owner),
            membership=membership,
            room_id=room.pk,
            outcome=Outcome.LOST,
            reason="  ",
        )
    room.refresh_from_db()
    assert room.outcome == Outcome.OPEN and room.closed_at is None


def test_a_closed_deal_cannot_be_closed_again(room, owner, membership):
    room_close(actor=Actor(user=owner), membership=membership, room_id=room.pk, outcome="won")
    with pytest.raises(OutcomeError, match="already won"):
        room_close(
            actor=Actor(user=owner),
            membership=membership,
            room_id=room.pk,
            outcome="lost",
            reason="Budget cut",
        )
    assert Room.objects.get(pk=room.pk).outcome == Outcome.WON


def test_reopen_clears_the_close(room, owner, membership):
    room_close(
        actor=Actor(user=owner),
        membership=membership,
        room_id=room.pk,
        outcome="lost",
        reason="Budget cut",
    )
    reopened = room_reopen(actor=Actor(user=owner), membership=membership, room_id=room.pk)
    assert reopened.outcome == Outcome.OPEN
    assert reopened.closed_at is None and reopened.outcome_reason == ""
    with pytest.raises(OutcomeError):
        room_reopen(actor=Actor(user=owner), membership=membership, room_id=room.pk)


def test_another_organisations_room_does_not_exist(room, outsider, other_org):
    membership = Membership.objects.get(user=outsider, org=other_org)
    with pytest.raises(Room.DoesNotExist):
        room_close(
            actor=Actor(user=outsider), membership=membership, room_id=room.pk, outcome="won"
        )
    assert Room.objects.get(pk=room.pk).outcome == Outcome.OPEN
