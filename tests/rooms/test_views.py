import pytest
from django.urls import reverse

from rooms.models import ActivityEvent, Room
from tests.factories import RoomFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}

VALID = {
    "name": "Acme — Finance automation",
    "buyer_company": "Acme Corp",
    "value": "84000",
    "currency": "usd",
    "stage": "evaluation",
    "target_close_date": "2027-01-15",
    "close_reason": "Budget released with the new fiscal year",
    "go_live_date": "2027-02-15",
    "goal": "Cut month-end close from 10 days to 4",
    "timezone": "Europe/Berlin",
    "review_weekday": "0",
    "review_time": "10:00",
    "review_duration_minutes": "15",
}


def test_create_a_room(owner, owner_client, org):
    response = owner_client.post(reverse("rooms:new"), VALID)
    room = Room.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("plans:room", args=[room.pk])
    assert (room.org, room.owner, room.currency) == (org, owner, "USD")
    assert room.review_slot_label == "Mondays 10:00 (15 min, Europe/Berlin)"
    assert ActivityEvent.objects.filter(room=room, verb="created").exists()


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "", "This field is required"),
        ("target_close_date", "2027-02-30", "Enter a valid date"),
        ("target_close_date", "20277-01-01", "Enter a valid date"),
        ("currency", "U$D", "three-letter currency code"),
        ("value", "-5", "greater than or equal to 0"),
        ("go_live_date", "2026-12-01", "Go-live comes after the target close date"),
        ("timezone", "Mars/Olympus", "Select a valid choice"),
        ("goal", "g" * 5001, "at most 5000 characters"),
    ],
)
def test_bad_room_input_is_explained_and_nothing_is_saved(owner_client, field, value, message):
    response = owner_client.post(reverse("rooms:new"), {**VALID, field: value})
    assert response.status_code == 422
    assert message in response.content.decode()
    assert not Room.objects.exists()


def test_edit_the_goal_in_place(owner_client, room):
    response = owner_client.post(
        reverse("rooms:save", args=[room.pk]),
        {"_field": "goal", "goal": "Close in 4 days", "version": 1},
        **HX,
    )
    assert response.status_code == 200 and b"Saved" in response.content
    room.refresh_from_db()
    assert room.goal == "Close in 4 days" and room.version == 2 and room.revision == 1


def test_moving_close_before_go_live_is_refused(owner_client, room):
    room.go_live_date = room.target_close_date
    room.save()
    later = room.target_close_date.replace(year=room.target_close_date.year + 1)
    response = owner_client.post(
        reverse("rooms:save", args=[room.pk]),
        {"_field": "target_close_date", "target_close_date": later.isoformat(), "version": 1},
        **HX,
    )
    assert response.status_code == 422
    assert "Go-live comes after" in response.content.decode()


def test_room_field_conflict_shows_both_values(owner_client, member_client, room):
    url = reverse("rooms:save", args=[room.pk])
    member_client.post(url, {"_field": "goal", "goal": "Theirs", "version": 1}, **HX)
    response = owner_client.post(url, {"_field": "goal", "goal": "Mine", "version": 1}, **HX)
    assert response.status_code == 409
    html = response.content.decode()
    assert "Theirs" in html and "Mine" in html and "Keep mine" in html


def test_room_list_filters(owner, owner_client, org):
    mine = RoomFactory(org=org, owner=owner, name="Mine")
    RoomFactory(org=org, name="Someone else's")
    RoomFactory(org=org, owner=owner, name="Closed deal", outcome="won")
    html = owner_client.get(reverse("rooms:list") + "?show=mine").content.decode()
    assert mine.name in html and "Someone else" not in html and "Closed deal" in html
    html = owner_client.get(reverse("rooms:list")).content.decode()
    assert "Someone else" in html and "Closed deal" not in html


def test_a_room_field_conflict_redraws_the_header_and_keep_mine_saves(
    owner_client, member_client, room
):
    """Like a plan row: the header as it is now (their value in the field) with the card;
    "Keep mine" answers with the header again, the card gone."""
    url = reverse("rooms:save", args=[room.pk])
    member_client.post(url, {"_field": "stage", "stage": "proposal", "version": 1}, **HX)
    conflict = owner_client.post(url, {"_field": "stage", "stage": "closing", "version": 1}, **HX)
    assert conflict.status_code == 409 and conflict["HX-Retarget"] == "#room-header"
    html = conflict.content.decode()
    assert 'id="room-header"' in html and 'value="proposal" selected' in html
    assert 'data-field="stage" data-value="proposal"' in html and "<b>Closing</b>" in html
    response = owner_client.post(
        url, {"_row": "1", "_field": "stage", "stage": "closing", "version": 2}, **HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="room-header"' in html and 'value="closing" selected' in html
    assert 'class="conflict"' not in html
    room.refresh_from_db()
    assert room.stage == "closing"
