"""Closing a deal from the room page: won, then the hand-off to Customer Success (an
onboarding plan appended, dated forward from signature, all of it logged, history and
buyer links kept); lost, with a reason, makes the room read-only in the write path
itself — sellers and buyers get a clear 4xx, never a 500 — until it is reopened."""

import datetime

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import Membership
from plans.models import Comment, Milestone, Task
from plans.services import comment_create, plan_start, task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Outcome, Room
from rooms.revision import RoomReadOnly
from rooms.services import room_close
from stakeholders import links
from stakeholders.models import Side
from tests.factories import StakeholderFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def planned(room):
    plan_start(actor=Actor.system(), room=room, template_slug="light")
    return room


@pytest.fixture
def maria(room):
    return StakeholderFactory(room=room, name="Maria Lopez")


def outcome(client, room, **data):
    return client.post(reverse("plans:outcome", args=[room.pk]), data)


def test_the_room_page_offers_closing(owner_client, planned):
    html = owner_client.get(reverse("plans:room", args=[planned.pk])).content.decode()
    assert "Close the deal" in html and "Mark won" in html and "Mark lost" in html


def test_lost_needs_a_reason_from_the_page(owner_client, planned):
    response = outcome(owner_client, planned, action="lost", reason=" ")
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.outcome == Outcome.OPEN
    page = owner_client.get(response["Location"]).content.decode()
    assert "Say why the deal was lost" in page


def test_won_then_hand_over_appends_onboarding_from_the_signature_date(
    owner_client, owner, member, planned, maria
):
    link, token = links.link_issue(actor=Actor(), room=planned, stakeholder=maria)
    task = Task.objects.filter(room=planned).first()
    comment_create(actor=Actor(stakeholder=maria), room=planned, task=task, body="Signed!")
    before_tasks = Task.objects.filter(room=planned).count()
    outcome(owner_client, planned, action="won", reason="Signed at the CFO review")
    planned.refresh_from_db()
    assert planned.outcome == Outcome.WON
    page = owner_client.get(reverse("plans:room", args=[planned.pk])).content.decode()
    assert "Hand over to Customer Success" in page
    member_id = Membership.objects.get(user=member).user_id

    response = owner_client.post(
        reverse("plans:handover", args=[planned.pk]), {"cs_owner": member_id}
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.outcome == Outcome.HANDED_OVER
    assert planned.cs_owner == member and planned.handed_over_at is not None
    signed = planned.closed_at.astimezone(planned.tzinfo).date()
    onboarding = list(
        Milestone.objects.filter(
            room=planned, title__in=["Onboarding kick-off", "Integration", "Training", "Go-live"]
        )
    )
    assert [m.title for m in onboarding] == [
        "Onboarding kick-off",
        "Integration",
        "Training",
        "Go-live",
    ]
    for m in onboarding:
        assert m.target_date > signed and m.target_date.weekday() < 5
    assert Task.objects.filter(room=planned).count() == before_tasks + 9
    cs = planned.stakeholders.get(side=Side.SELLER, email=member.email)
    assert Task.objects.filter(room=planned, owner=cs).count() == 5  # the seller-side ones
    # History is kept: the sales plan, its comments, the activity.
    assert Comment.objects.filter(room=planned, body="Signed!").exists()
    verbs = set(ActivityEvent.objects.filter(room=planned).values_list("verb", flat=True))
    assert {"won", "handed_over", "created", "commented"} <= verbs
    # Buyer links keep working.
    client = Client()
    assert client.get(reverse("buyer:open", args=[token])).status_code == 303
    html = client.get(reverse("buyer:room")).content.decode()
    assert "Onboarding kick-off" in html
    page = owner_client.get(reverse("plans:room", args=[planned.pk])).content.decode()
    assert f"Handed over to {member.display_name}" in page


def test_hand_over_needs_a_member_of_the_organisation(owner_client, planned, outsider):
    outcome(owner_client, planned, action="won")
    response = owner_client.post(
        reverse("plans:handover", args=[planned.pk]), {"cs_owner": outsider.pk}
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.outcome == Outcome.WON and planned.cs_owner is None
    assert "Pick a member" in owner_client.get(response["Location"]).content.decode()


@pytest.mark.parametrize("cs_owner", [str(2**64), "-1", "0", "x"])
def test_hand_over_to_a_number_no_member_can_have_is_refused_not_a_500(
    owner_client, planned, cs_owner
):
    outcome(owner_client, planned, action="won")
    response = owner_client.post(
        reverse("plans:handover", args=[planned.pk]), {"cs_owner": cs_owner}
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.outcome == Outcome.WON and planned.cs_owner is None
    assert "Pick a member" in owner_client.get(response["Location"]).content.decode()


def test_the_hand_over_service_refuses_an_id_beyond_the_column(owner, planned):
    from plans.services import room_handover
    from rooms.services import OutcomeError

    membership = Membership.objects.get(user=owner)
    room_close(actor=Actor(), membership=membership, room_id=planned.pk, outcome=Outcome.WON)
    with pytest.raises(OutcomeError):
        room_handover(actor=Actor(), membership=membership, room_id=planned.pk, cs_owner_id=2**64)


def test_hand_over_needs_a_won_deal(owner_client, owner, planned):
    response = owner_client.post(
        reverse("plans:handover", args=[planned.pk]), {"cs_owner": owner.pk}
    )
    assert response.status_code == 302
    planned.refresh_from_db()
    assert planned.outcome == Outcome.OPEN
    assert not Milestone.objects.filter(room=planned, title="Onboarding kick-off").exists()


def test_hand_over_without_a_plan_starts_one(owner_client, owner, room):
    outcome(owner_client, room, action="won")
    owner_client.post(reverse("plans:handover", args=[room.pk]), {"cs_owner": owner.pk})
    assert Milestone.objects.filter(room=room).count() == 4


def test_a_lost_room_refuses_every_write_in_the_services(planned, owner, maria):
    membership = Membership.objects.get(user=owner)
    task = Task.objects.filter(room=planned).first()
    room_close(
        actor=Actor(user=owner),
        membership=membership,
        room_id=planned.pk,
        outcome=Outcome.LOST,
        reason="Budget moved to next year",
    )
    room = Room.objects.get(pk=planned.pk)
    revision = room.revision
    events = ActivityEvent.objects.count()
    with pytest.raises(RoomReadOnly):
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=task.version,
            changes={"title": "Changed"},
        )
    with pytest.raises(RoomReadOnly):
        comment_create(actor=Actor(stakeholder=maria), room=room, task=task, body="Hi")
    room.refresh_from_db()
    assert room.revision == revision
    assert ActivityEvent.objects.count() == events
    assert Task.objects.get(pk=task.pk).title == task.title


def test_sellers_get_a_clear_409_in_a_lost_room_and_can_reopen(owner_client, planned):
    outcome(owner_client, planned, action="lost", reason="Went with a competitor")
    planned.refresh_from_db()
    assert planned.outcome == Outcome.LOST
    page = owner_client.get(reverse("plans:room", args=[planned.pk])).content.decode()
    assert "This room is read-only" in page and "Reopen the deal" in page
    assert '<fieldset class="frozen" disabled>' in page
    task = Task.objects.filter(room=planned).first()
    url = reverse("plans:task_save", args=[planned.pk, task.pk])
    data = {"_field": "title", "title": "Sneaky", "version": task.version}
    response = owner_client.post(url, data, **HX)
    assert response.status_code == 409
    assert response["HX-Refresh"] == "true"
    assert "read-only" in response.content.decode()
    response = owner_client.post(url, data)  # without JavaScript
    assert response.status_code == 409
    assert "read-only" in response.content.decode()
    for name, args, post in [
        ("plans:milestone_add", [planned.pk], {"title": "New", "lead_side": "buyer"}),
        ("plans:task_delete", [planned.pk, task.pk], {}),
        ("stakeholders:add", [planned.pk], {"name": "Ann", "side": "buyer", "role": "other"}),
        ("rooms:save", [planned.pk], {"_field": "goal", "goal": "x", "version": planned.version}),
        ("plans:comment_add", [planned.pk, task.pk], {"body": "hello"}),
    ]:
        assert owner_client.post(reverse(name, args=args), post, **HX).status_code == 409, name
    assert Task.objects.get(pk=task.pk).title == task.title
    # Downloads still work.
    assert owner_client.get(reverse("plans:pdf", args=[planned.pk])).status_code == 200
    # Reopening is what is still allowed.
    outcome(owner_client, planned, action="reopen")
    planned.refresh_from_db()
    assert planned.outcome == Outcome.OPEN
    data["version"] = Task.objects.get(pk=task.pk).version
    assert owner_client.post(url, data, **HX).status_code == 200


def test_buyers_get_a_clear_409_in_a_lost_room(owner_client, planned, maria):
    _, token = links.link_issue(actor=Actor(), room=planned, stakeholder=maria)
    task = Task.objects.filter(room=planned, side=Side.BUYER).first()
    Task.objects.filter(pk=task.pk).update(owner=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    outcome(owner_client, planned, action="lost", reason="No budget")
    html = client.get(reverse("buyer:room")).content.decode()
    assert "the plan is read-only" in html
    url = reverse("buyer:task_save", args=[task.pk])
    response = client.post(
        url, {"_field": "status", "status": "done", "version": task.version}, **HX
    )
    assert response.status_code == 409
    assert response["Content-Security-Policy"].startswith("default-src 'self'")
    response = client.post(reverse("buyer:agree"))
    assert response.status_code == 409
    assert "read-only" in response.content.decode()
    assert Task.objects.get(pk=task.pk).status != "done"


def test_no_new_links_in_a_lost_room(owner_client, planned, maria):
    outcome(owner_client, planned, action="lost", reason="No budget")
    response = owner_client.post(
        reverse("stakeholders:link_issue", args=[planned.pk, maria.pk]), {"days": 30}
    )
    assert response.status_code == 422
    assert "reopen it" in response.content.decode()


def test_the_outcome_urls_are_post_only_and_tenant_scoped(owner_client, outsider_client, planned):
    assert owner_client.get(reverse("plans:outcome", args=[planned.pk])).status_code == 405
    assert outcome(outsider_client, planned, action="won").status_code == 404
    planned.refresh_from_db()
    assert planned.outcome == Outcome.OPEN


def test_signature_date_is_in_the_rooms_timezone(room):
    room.timezone = "Pacific/Auckland"
    room.closed_at = datetime.datetime(2026, 3, 1, 20, 0, tzinfo=datetime.UTC)
    assert room.signature_date() == datetime.date(2026, 3, 2)
    room.closed_at = None
    assert room.signature_date() == room.today()
    assert timezone.now()
