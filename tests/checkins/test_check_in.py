"""The weekly check-in: what it shows a seller and a track-scoped buyer, marking lines
during the call, finishing it (record, activity, signal, recap emails, live revision),
bad input and tenancy."""

import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from checkins.models import CheckIn
from plans.models import Comment, Task, TaskStatus
from rooms.activity_text import describe
from rooms.models import ActivityEvent, Room
from stakeholders.models import DecisionRole, Scope, Side, Track
from tests.conftest import buyer_client, login
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(room):
    """A room two weeks into its plan with a Monday review slot: one task slipped, one
    done this week, one due before the next review, one far ahead, on two tracks."""
    today = room.today()
    room.review_weekday, room.review_time = 0, datetime.time(10, 0)
    room.plan_started_at = timezone.now() - datetime.timedelta(days=14)
    room.target_close_date = today + datetime.timedelta(days=60)
    room.save()
    plan = PlanFactory(room=room, org=room.org)
    security = MilestoneFactory(
        plan=plan,
        title="Security review",
        track=Track.SECURITY,
        target_date=today + datetime.timedelta(days=20),
    )
    business = MilestoneFactory(
        plan=plan,
        title="Business case",
        track=Track.BUSINESS,
        target_date=today + datetime.timedelta(days=30),
    )
    champion = StakeholderFactory(
        room=room, name="Dana Buyer", role=DecisionRole.CHAMPION, email="dana@acme.example"
    )
    infosec = StakeholderFactory(
        room=room,
        name="Ivan Sec",
        scope=Scope.TRACK,
        track=Track.SECURITY,
        email="ivan@acme.example",
    )
    seller = StakeholderFactory(
        room=room, name="Sam Seller", side=Side.SELLER, email="sam@northwind.example"
    )
    tasks = {
        "slipped": TaskFactory(
            milestone=security,
            title="Security questionnaire",
            owner=infosec,
            side=Side.BUYER,
            due_date=today - datetime.timedelta(days=4),
        ),
        "done": TaskFactory(
            milestone=business,
            title="Pricing workshop",
            owner=seller,
            side=Side.SELLER,
            due_date=today - datetime.timedelta(days=2),
            status=TaskStatus.DONE,
            completed_at=timezone.now() - datetime.timedelta(days=1),
        ),
        "next": TaskFactory(
            milestone=business,
            title="ROI model review",
            owner=champion,
            due_date=today + datetime.timedelta(days=1),
        ),
        "later": TaskFactory(
            milestone=business,
            title="Board approval",
            owner=champion,
            due_date=today + datetime.timedelta(days=25),
        ),
    }
    return {"room": room, "champion": champion, "infosec": infosec, "seller": seller, **tasks}


def page_url(room):
    return reverse("checkins:page", args=[room.pk])


def section(html, heading_id):
    """The HTML of one section of the page, from its heading to the next section."""
    start = html.index(f'id="{heading_id}"')
    end = html.find("<section", start)
    return html[start : end if end != -1 else None]


def test_the_seller_sees_what_slipped_got_done_and_is_due_next_with_owners(owner_client, deal):
    html = owner_client.get(page_url(deal["room"])).content.decode()
    slipped = section(html, "ci-slipped-h")
    assert "Security questionnaire" in slipped and "Ivan Sec" in slipped
    assert "late" in slipped or "close" in slipped  # what it does to the close
    assert "ROI model review" in section(html, "ci-next-h")
    assert "Dana Buyer" in section(html, "ci-next-h")
    assert "Pricing workshop" in section(html, "ci-done-h")
    assert "Board approval" not in html  # due after the next review
    assert "Projected close" in section(html, "ci-close-h")
    assert "Since the plan started on" in html
    assert 'name="mark"' in html and "Finish check-in" in html


def test_a_track_scoped_buyer_sees_only_their_tasks(deal):
    client = buyer_client(deal["infosec"])
    response = client.get(reverse("buyer_checkins:page"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "Security questionnaire" in html
    assert "Pricing workshop" not in html and "ROI model review" not in html
    assert 'name="mark"' not in html  # the buyer reads the review; the seller runs it


def test_a_whole_plan_buyer_sees_every_line(deal):
    html = buyer_client(deal["champion"]).get(reverse("buyer_checkins:page")).content.decode()
    for title in ("Security questionnaire", "Pricing workshop", "ROI model review"):
        assert title in html


def test_marking_a_line_at_risk_blocks_the_task_and_keeps_the_note(owner_client, deal):
    room, task = deal["room"], deal["slipped"]
    before = Room.objects.get(pk=room.pk).revision
    response = owner_client.post(
        reverse("checkins:mark", args=[room.pk, task.pk]),
        {"mark": "at_risk", "note": "Waiting on the CISO's answers", "version": task.version},
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.status == TaskStatus.BLOCKED
    comment = Comment.objects.get(task=task)
    assert comment.body == "Waiting on the CISO's answers"
    # Through the write path: the room's revision moves, so every open page updates.
    assert Room.objects.get(pk=room.pk).revision > before
    # The buyer's own room shows it too.
    html = buyer_client(deal["infosec"]).get(reverse("buyer:room")).content.decode()
    assert "Waiting on the CISO" in html and "Blocked" in html


def test_on_track_clears_blocked_and_done_completes(owner_client, deal):
    room, task = deal["room"], deal["next"]
    url = reverse("checkins:mark", args=[room.pk, task.pk])
    owner_client.post(url, {"mark": "at_risk", "version": task.version})
    task.refresh_from_db()
    owner_client.post(url, {"mark": "on_track", "version": task.version})
    task.refresh_from_db()
    assert task.status == TaskStatus.IN_PROGRESS
    owner_client.post(url, {"mark": "done", "version": task.version})
    task.refresh_from_db()
    assert task.status == TaskStatus.DONE and task.completed_at is not None


def test_a_bad_mark_changes_nothing_and_says_why(owner_client, deal):
    room, task = deal["room"], deal["next"]
    response = owner_client.post(
        reverse("checkins:mark", args=[room.pk, task.pk]),
        {"mark": "maybe", "note": "x" * 400, "version": "nope"},
        follow=True,
    )
    assert response.status_code == 200
    assert "on track, at risk or done" in response.content.decode()
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
    assert not Comment.objects.filter(task=task).exists()


def finish(client, deal, since, **data):
    payload = {
        "since": since,
        "attendees": [str(deal["champion"].pk), str(deal["infosec"].pk), str(deal["seller"].pk)],
        "notes": "Walked the plan.",
        "decisions": "Security review moves to next week.",
    } | data
    return client.post(reverse("checkins:finish", args=[deal["room"].pk]), payload)


def test_finishing_records_the_check_in_and_emails_a_recap_to_both_sides(
    owner, owner_client, deal, django_capture_on_commit_callbacks
):
    room = deal["room"]
    since = Room.objects.get(pk=room.pk).revision
    owner_client.post(
        reverse("checkins:mark", args=[room.pk, deal["slipped"].pk]),
        {"mark": "at_risk", "note": "Waiting on the CISO", "version": deal["slipped"].version},
    )
    owner_client.post(
        reverse("checkins:mark", args=[room.pk, deal["done"].pk]),
        {"mark": "done", "note": "Prices agreed", "version": deal["done"].version},
    )
    revision = Room.objects.get(pk=room.pk).revision
    with django_capture_on_commit_callbacks(execute=True):
        response = finish(owner_client, deal, since)
    assert response.status_code == 302

    checkin = CheckIn.objects.get(room=room)
    assert checkin.org_id == room.org_id and checkin.held_by == owner
    assert set(checkin.attendees.all()) == {deal["champion"], deal["infosec"], deal["seller"]}
    assert checkin.decisions == "Security review moves to next week."
    lines = {line["title"]: line for line in checkin.lines}
    assert lines["Security questionnaire"]["to"] == "Blocked"
    assert lines["Security questionnaire"]["notes"] == ["Waiting on the CISO"]
    assert lines["Pricing workshop"]["notes"] == ["Prices agreed"]
    assert checkin.next_review_at.date() > room.today()
    assert checkin.next_review_at.weekday() == 0

    fresh = Room.objects.get(pk=room.pk)
    assert fresh.last_check_in_at == checkin.created_at
    assert fresh.revision > revision  # live: every open page of the room learns of it
    entry = ActivityEvent.objects.get(room=room, verb=ActivityEvent.Verb.CHECKED_IN)
    line = describe(entry)
    assert line.text.endswith("held the weekly check-in")
    assert any("Ivan Sec" in "".join(d) for d in line.details)

    sent = {message.to[0]: message for message in mail.outbox}
    assert set(sent) == {
        owner.email,
        "dana@acme.example",
        "ivan@acme.example",
        "sam@northwind.example",
    }
    for message in sent.values():
        assert message.alternatives and message.alternatives[0][1] == "text/html"
        assert "Security review moves to next week." in message.body
        assert "Next review:" in message.body
        assert owner.display_name in message.from_email
    buyer = sent["ivan@acme.example"]
    assert reverse("buyer_checkins:page") in buyer.body
    assert "new personal link" in buyer.body
    # A track-scoped buyer reads only the lines of the tasks they see.
    assert "Security questionnaire" in buyer.body and "Pricing workshop" not in buyer.body
    assert "Pricing workshop" in sent["dana@acme.example"].body
    assert page_url(room) in sent[owner.email].body

    # The check-ins list on the room's check-in page.
    html = owner_client.get(page_url(room)).content.decode()
    assert "Security review moves to next week." in section(html, "history-h")
    assert "Since the last check-in on" in html


def test_a_foreign_attendee_or_too_long_notes_are_refused_and_kept(owner_client, deal):
    other = StakeholderFactory()
    response = finish(owner_client, deal, 0, attendees=[str(other.pk)], notes="Keep this text")
    assert response.status_code == 422
    assert "Pick people from this room." in response.content.decode()
    assert "Keep this text" in response.content.decode()
    response = finish(owner_client, deal, 0, notes="n" * 6000)
    assert response.status_code == 422
    assert not CheckIn.objects.exists()


def test_other_organisations_and_other_rooms_buyers_get_nothing(outsider_client, deal):
    room = deal["room"]
    assert outsider_client.get(page_url(room)).status_code == 404
    assert outsider_client.post(reverse("checkins:finish", args=[room.pk])).status_code == 404
    mark_url = reverse("checkins:mark", args=[room.pk, deal["slipped"].pk])
    assert outsider_client.post(mark_url, {"mark": "done", "version": 1}).status_code == 404
    assert not CheckIn.objects.exists()
    assert Task.objects.get(pk=deal["slipped"].pk).status == TaskStatus.NOT_STARTED

    # A buyer of another room sees their own room's check-in only, and reaches none of
    # this room's seller URLs.
    elsewhere = RoomFactory()
    plan = PlanFactory(room=elsewhere, org=elsewhere.org)
    TaskFactory(
        milestone=MilestoneFactory(plan=plan),
        title="Their own task",
        due_date=elsewhere.today() - datetime.timedelta(days=1),
    )
    stranger = buyer_client(StakeholderFactory(room=elsewhere))
    html = stranger.get(reverse("buyer_checkins:page")).content.decode()
    assert "Their own task" in html and "Security questionnaire" not in html
    assert stranger.get(page_url(room)).status_code in (302, 404)


def test_a_mark_on_another_rooms_task_is_404(owner_client, deal):
    foreign = TaskFactory(milestone=MilestoneFactory(plan=PlanFactory()))
    url = reverse("checkins:mark", args=[deal["room"].pk, foreign.pk])
    assert owner_client.post(url, {"mark": "done", "version": 1}).status_code == 404
    assert Task.objects.get(pk=foreign.pk).status == TaskStatus.NOT_STARTED


def test_signed_out_visitors_and_buyers_without_a_session(client, deal):
    assert client.get(page_url(deal["room"])).status_code == 302
    assert client.get(reverse("buyer_checkins:page")).status_code == 404


@pytest.mark.parametrize("count", [5, 30])
def test_the_page_reads_a_fixed_number_of_queries(owner, deal, count, django_assert_num_queries):
    milestone = deal["slipped"].milestone
    for n in range(count):
        TaskFactory(
            milestone=milestone,
            owner=deal["infosec"],
            due_date=deal["room"].today() - datetime.timedelta(days=n % 3),
        )
    client = login(owner)
    client.get(page_url(deal["room"]))  # sessions and caches warm
    with django_assert_num_queries(QUERIES):
        assert client.get(page_url(deal["room"])).status_code == 200


QUERIES = 8  # user, membership, room, check-ins, people, milestones, dependencies, tasks


def test_the_recap_gives_the_next_review_in_the_rooms_own_time(
    owner_client, deal, django_capture_on_commit_callbacks
):
    """A room in New York reviews on Mondays at 10:00 there: the recap says 10:00, not
    the server's 15:00."""
    room = deal["room"]
    Room.objects.filter(pk=room.pk).update(timezone="America/New_York")
    since = Room.objects.get(pk=room.pk).revision
    with django_capture_on_commit_callbacks(execute=True):
        assert finish(owner_client, deal, since).status_code == 302
    for message in mail.outbox:
        assert ", 10:00 (America/New_York)" in message.body
        assert ", 10:00 (America/New_York)" in message.alternatives[0][0]


def test_a_recap_the_mail_server_refuses_leaves_the_check_in_recorded(
    owner_client, deal, django_capture_on_commit_callbacks, settings
):
    settings.MAILERS = {"default": {"BACKEND": "tests.alerts.backends.RefusingSMTPBackend"}}
    since = Room.objects.get(pk=deal["room"].pk).revision
    with django_capture_on_commit_callbacks(execute=True):
        response = finish(owner_client, deal, since)
    assert response.status_code == 302
    assert CheckIn.objects.filter(room=deal["room"]).count() == 1
