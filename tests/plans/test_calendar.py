"""Calendar: the weekly review (.ics with a weekly RRULE in the room's timezone, both
sides as attendees, stable UIDs) for sellers, buyers and the link email; and each
stakeholder's own feed (unguessable, revocable, regenerated on every poll)."""

import datetime

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from plans.models import Milestone
from plans.services import task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent
from stakeholders import calendar, links
from stakeholders.models import CalendarFeed, Scope, Side, Track
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db


def days(n):
    return timezone.now().date() + datetime.timedelta(days=n)


@pytest.fixture
def slot(room):
    room.review_weekday = 3  # Thursday
    room.review_time = datetime.time(16, 0)
    room.review_duration_minutes = 45
    room.timezone = "America/New_York"
    room.save()
    return room


@pytest.fixture
def maria(room):
    return StakeholderFactory(
        room=room, name="Maria Lopez", email="maria@acme.example", track=Track.BUSINESS
    )


@pytest.fixture
def sam(room):
    return StakeholderFactory(
        room=room, side=Side.SELLER, name="Sam Rep", email="sam@northwind.example"
    )


def parse(body):
    return icalendar.Calendar.from_ical(body)


def events(cal):
    return [c for c in cal.walk("VEVENT")]


def attendees(event):
    value = event.get("ATTENDEE") or []
    return {str(a) for a in (value if isinstance(value, list) else [value])}


def review_of(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("text/calendar")
    assert response["Content-Disposition"].startswith("attachment;")
    (event,) = events(parse(response.content))
    return response, event


def test_seller_downloads_the_weekly_review(owner_client, owner, slot, maria, sam):
    url = reverse("plans:review_ics", args=[slot.pk])
    response, event = review_of(owner_client, url)
    cal = parse(response.content)
    rrule = event["RRULE"]
    assert rrule["FREQ"] == ["WEEKLY"] and rrule["BYDAY"] == ["TH"]
    start = event.decoded("DTSTART")
    assert event["DTSTART"].params["TZID"] == "America/New_York"
    assert start.weekday() == 3 and start.time() == datetime.time(16, 0)
    assert event.decoded("DTEND") - start == datetime.timedelta(minutes=45)
    (tz,) = cal.walk("VTIMEZONE")
    assert tz["TZID"] == "America/New_York"
    assert attendees(event) == {"mailto:maria@acme.example", "mailto:sam@northwind.example"}
    assert str(event["ORGANIZER"]) == f"mailto:{owner.email}"
    assert str(event["URL"]).endswith(reverse("plans:room", args=[slot.pk]))
    # Regenerated: the same UID, so calendars update the event instead of adding one.
    _, again = review_of(owner_client, url)
    assert str(event["UID"]) == str(again["UID"]) == f"review-{slot.pk}@mapsite"


def test_moving_the_slot_keeps_the_uid_and_raises_the_sequence(owner_client, slot, maria):
    url = reverse("plans:review_ics", args=[slot.pk])
    _, before = review_of(owner_client, url)
    owner_client.post(
        reverse("rooms:save", args=[slot.pk]),
        {"_field": "review_weekday", "review_weekday": "0", "version": slot.version},
        HTTP_HX_REQUEST="true",
    )
    _, after = review_of(owner_client, url)
    assert str(after["UID"]) == str(before["UID"])
    assert after["RRULE"]["BYDAY"] == ["MO"]
    assert int(after["SEQUENCE"]) > int(before["SEQUENCE"])


def test_no_review_slot_no_calendar(owner_client, room):
    assert owner_client.get(reverse("plans:review_ics", args=[room.pk])).status_code == 404


def test_outsider_gets_404(outsider_client, slot):
    assert outsider_client.get(reverse("plans:review_ics", args=[slot.pk])).status_code == 404


def test_buyer_downloads_the_weekly_review_without_their_token(slot, maria):
    _, token = links.link_issue(actor=Actor(), room=slot, stakeholder=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    response, event = review_of(client, reverse("buyer:review_ics"))
    assert token not in response.content.decode()
    assert "mailto:maria@acme.example" in attendees(event)
    assert response["Cache-Control"] == "no-store"


def test_a_track_scoped_buyers_invites_name_no_other_buyer(owner_client, slot, maria, sam):
    """Whoever sees only their own track sees the seller side and themselves, in the
    downloaded invite, the emailed one and their calendar feed alike."""
    maria.scope = Scope.TRACK
    maria.save()
    StakeholderFactory(room=slot, name="Chen Wu", email="chen@acme.example")
    owner_client.post(
        reverse("stakeholders:link_issue", args=[slot.pk, maria.pk]),
        {"days": 30, "send_email": "on", "note": ""},
    )
    (message,) = mail.outbox
    (emailed,) = events(parse(message.attachments[0].content))
    _, token = links.link_issue(actor=Actor(), room=slot, stakeholder=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    _, downloaded = review_of(client, reverse("buyer:review_ics"))
    _, feed_token = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
    fed = [
        e
        for e in events(parse(Client().get(reverse("calendar_feed", args=[feed_token])).content))
        if "weekly review" in str(e["SUMMARY"]).lower()
    ]
    for event in (emailed, downloaded, *fed):
        assert attendees(event) == {"mailto:maria@acme.example", "mailto:sam@northwind.example"}
    assert len(fed) == 1


def test_the_link_email_carries_the_review_invite(owner_client, slot, maria):
    owner_client.post(
        reverse("stakeholders:link_issue", args=[slot.pk, maria.pk]),
        {"days": 30, "send_email": "on", "note": ""},
    )
    (message,) = mail.outbox
    (attachment,) = message.attachments
    assert attachment.filename == "weekly-review.ics"
    assert attachment.mimetype == "text/calendar"
    (event,) = events(parse(attachment.content))
    assert event["RRULE"]["FREQ"] == ["WEEKLY"]
    assert "weekly review" in message.body.lower()


def test_without_a_slot_the_link_email_has_no_attachment(owner_client, room, maria):
    owner_client.post(
        reverse("stakeholders:link_issue", args=[room.pk, maria.pk]),
        {"days": 30, "send_email": "on", "note": ""},
    )
    (message,) = mail.outbox
    assert message.attachments == []


# --- per-stakeholder feeds ------------------------------------------------------------------


@pytest.fixture
def dated_plan(slot, maria):
    plan = PlanFactory(room=slot, org=slot.org)
    business = MilestoneFactory(
        plan=plan, title="Business case approved", track=Track.BUSINESS, target_date=days(20)
    )
    security = MilestoneFactory(
        plan=plan, title="Security sign-off", track=Track.SECURITY, target_date=days(30)
    )
    mine = TaskFactory(milestone=business, owner=maria, title="Present to CFO", due_date=days(5))
    other = TaskFactory(milestone=security, title="Pen test", due_date=days(25))
    return {"business": business, "security": security, "mine": mine, "other": other}


def issue_feed(client, room, person):
    response = client.post(reverse("stakeholders:feed_issue", args=[room.pk, person.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('id="new-feed"')
    value = html[start:].split('value="', 1)[1].split('"', 1)[0]
    return value


def test_seller_issues_a_feed_that_carries_dates_and_follows_moves(
    owner_client, slot, maria, dated_plan
):
    url = issue_feed(owner_client, slot, maria)
    path = "/" + url.split("/", 3)[3]
    assert path.startswith("/cal/") and path.endswith(".ics")
    token = path[len("/cal/") : -len(".ics")]
    assert len(token) >= 43
    assert not CalendarFeed.objects.filter(token_hash=token).exists()  # only its hash is kept
    anonymous = Client()
    response = anonymous.get(path)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/calendar")
    cal = parse(response.content)
    by_uid = {str(e["UID"]): e for e in events(cal)}
    mine, business = dated_plan["mine"], dated_plan["business"]
    assert by_uid[f"task-{mine.pk}@mapsite"].decoded("DTSTART") == mine.due_date
    assert by_uid[f"milestone-{business.pk}@mapsite"].decoded("DTSTART") == business.target_date
    assert f"review-{slot.pk}@mapsite" in by_uid
    # A date moves: the next poll has it, under the same UID.
    task_update(
        actor=Actor.system(),
        room=slot,
        task_id=mine.pk,
        base_version=mine.version,
        changes={"due_date": days(9)},
    )
    again = {str(e["UID"]): e for e in events(parse(anonymous.get(path).content))}
    assert again[f"task-{mine.pk}@mapsite"].decoded("DTSTART") == days(9)
    assert set(again) == set(by_uid)
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.FEED_ISSUED).exists()


def test_a_track_scoped_feed_leaves_out_other_tracks(owner_client, slot, maria, dated_plan):
    def feed_uids():
        _, token = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
        body = Client().get(f"/cal/{token}.ics").content
        return {str(e["UID"]) for e in events(parse(body))}

    business = f"milestone-{dated_plan['business'].pk}@mapsite"
    security = f"milestone-{dated_plan['security'].pk}@mapsite"
    mine = f"task-{dated_plan['mine'].pk}@mapsite"
    theirs = TaskFactory(
        milestone=dated_plan["business"],
        owner=StakeholderFactory(room=slot, name="Li Wei", track=Track.BUSINESS),
        due_date=days(6),
    )
    whole_plan = feed_uids()
    assert {business, security, mine} <= whole_plan
    assert f"task-{theirs.pk}@mapsite" not in whole_plan  # only her own tasks
    maria.scope = Scope.TRACK
    maria.save()
    scoped = feed_uids()
    assert business in scoped and mine in scoped
    assert security not in scoped  # another track's milestone, none of her tasks in it


def test_revoked_or_replaced_feeds_stop_and_unknown_tokens_are_404(owner_client, slot, maria):
    feed, token = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
    assert Client().get(f"/cal/{token}.ics").status_code == 200
    _, newer = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
    assert Client().get(f"/cal/{token}.ics").status_code == 404  # replaced
    current = CalendarFeed.objects.get(stakeholder=maria, revoked_at=None)
    response = owner_client.post(
        reverse("stakeholders:feed_revoke", args=[slot.pk, maria.pk, current.pk])
    )
    assert response.status_code == 302
    assert Client().get(f"/cal/{newer}.ics").status_code == 404
    assert Client().get("/cal/not-a-token.ics").status_code == 404
    assert Client().get(f"/cal/{'A' * 43}.ics").status_code == 404


def test_feed_revoke_with_another_rooms_feed_is_404(owner_client, slot, maria, other_org):
    from tests.factories import RoomFactory

    elsewhere = StakeholderFactory(room=RoomFactory(org=other_org))
    feed, _ = calendar.feed_issue(actor=Actor(), room=elsewhere.room, stakeholder=elsewhere)
    url = reverse("stakeholders:feed_revoke", args=[slot.pk, maria.pk, feed.pk])
    assert owner_client.post(url).status_code == 404
    feed.refresh_from_db()
    assert feed.revoked_at is None


def test_buyer_gets_their_own_feed_from_the_buyer_page(slot, maria, dated_plan):
    _, token = links.link_issue(actor=Actor(), room=slot, stakeholder=maria)
    client = Client()
    client.get(reverse("buyer:open", args=[token]))
    response = client.post(reverse("buyer:feed_issue"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    html = response.content.decode()
    url = html.split('id="feed-url" type="text" value="', 1)[1].split('"', 1)[0]
    path = "/" + url.split("/", 3)[3]
    uids = {str(e["UID"]) for e in events(parse(Client().get(path).content))}
    assert f"task-{dated_plan['mine'].pk}@mapsite" in uids
    assert CalendarFeed.objects.get(revoked_at=None).stakeholder == maria


def test_feed_urls_are_redacted_from_the_access_log():
    from mapsite.gunicorn_logging import redact

    line = "GET /cal/abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ.ics HTTP/1.1"
    assert redact(line) == "GET /cal/<redacted>.ics HTTP/1.1"


def test_milestone_without_date_is_left_out(slot, maria):
    plan = PlanFactory(room=slot, org=slot.org)
    undated = MilestoneFactory(plan=plan, title="Someday", target_date=None)
    _, token = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
    body = Client().get(f"/cal/{token}.ics").content.decode()
    assert str(undated.pk) not in body
    assert Milestone.objects.filter(pk=undated.pk).exists()


def test_feed_answers_head_refuses_posts_and_never_logs_its_token(slot, maria, caplog):
    _, token = calendar.feed_issue(actor=Actor(), room=slot, stakeholder=maria)
    url = f"/cal/{token}.ics"
    with caplog.at_level("DEBUG", logger="django.request"):
        assert Client().head(url).status_code == 200
        assert Client().post(url).status_code == 405
        assert Client().get(f"/cal/{'B' * 43}.ics").status_code == 404
    assert token not in caplog.text and "B" * 43 not in caplog.text
