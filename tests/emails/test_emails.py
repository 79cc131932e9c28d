"""Email as people expect it: two parts (plain text and simple HTML), sent in the seller's
name with replies going to them, a link that works for buyers, and a one-click way to
stop a room's reminders that the seller is told about."""

import datetime
import re

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from accounts.services import invitation_send
from alerts import delivery
from alerts.models import EmailOptOut, Notification, Status
from alerts.optout import OPTED_OUT, stop_token
from alerts.sweep import sweep_overdue
from rooms.actors import Actor
from rooms.models import ActivityEvent
from stakeholders.links import link_issue_and_send
from stakeholders.models import DecisionRole
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db

CSRF = re.compile(r'"X-CSRFToken": "[^"]+"')
# Anything a mail client would fetch by itself: images, frames, styles, fonts.
REMOTE = re.compile(r"\bsrc\s*=|\bsrcset\s*=|url\(|@import|<(img|link|iframe|object|embed)\b", re.I)


@pytest.fixture
def seller(owner):
    owner.name = "Sarah Kim"
    owner.save()
    return owner


@pytest.fixture
def maria(room):
    return StakeholderFactory(
        room=room, name="Maria Lopez", email="Maria@Acme.example", role=DecisionRole.CHAMPION
    )


@pytest.fixture
def late_task(room, maria):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan, title="Security review complete")
    due = timezone.now().date() - datetime.timedelta(days=8)
    return TaskFactory(milestone=milestone, title="Review SOC 2", due_date=due, owner=maria)


def html_of(message):
    (html, mimetype), *_ = message.alternatives
    assert mimetype == "text/html"
    return html


def assert_two_simple_parts(message):
    assert message.body.strip()
    html = html_of(message)
    assert '<html lang="en">' in html
    assert re.search(r"<h1[^>]*>.+</h1>", html)
    assert "<script" not in html.lower()
    assert "<img" not in html.lower() and "<link" not in html.lower()
    assert not REMOTE.search(html)
    assert "<style" not in html.lower()  # inline CSS only
    return html


def alert_email(mailoutbox, late_task):
    sweep_overdue()
    for n in Notification.objects.filter(task=late_task):
        delivery.deliver(n.pk)
    (message,) = [m for m in mailoutbox if m.to == ["maria@acme.example"]]
    return message


# --- the three kinds of email ------------------------------------------------------------


def test_the_alert_email_has_both_parts_the_sellers_name_and_a_stop_link(
    settings, seller, room, late_task, mailoutbox
):
    settings.SITE_URL = "https://rooms.example.com"
    message = alert_email(mailoutbox, late_task)
    html = assert_two_simple_parts(message)

    assert message.from_email == '"Sarah Kim (Northwind)" <no-reply@mapsite.localhost>'
    assert message.reply_to == [seller.email]
    headers = message.message()
    unsubscribe = headers["List-Unsubscribe"]
    stop = re.search(r"<(https://rooms\.example\.com/b/email/stop/[^>]+)>", unsubscribe)
    assert stop
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["Message-ID"].startswith("<alert.")  # kept
    assert stop.group(1) in message.body and stop.group(1) in html
    assert "Stop reminders for this room" in html
    # A buyer gets a way in: the room, and a page to ask for a new link.
    assert "/b/room/" in message.body
    assert "/email/new-link/" in message.body and "/email/new-link/" in html
    assert "Ask for a new personal link" in html
    # No token is kept in the notification's stored words.
    stored = Notification.objects.get(task=late_task, channel="email").payload
    assert "/email/" not in str(stored)


def test_the_link_email_has_both_parts_and_comes_from_the_seller(seller, room, maria, mailoutbox):
    url = link_issue_and_send(
        actor=Actor(user=seller), room=room, stakeholder=maria, send_email=True
    )
    (message,) = mailoutbox
    html = assert_two_simple_parts(message)
    assert url in message.body and f'href="{url}"' in html
    assert message.from_email == '"Sarah Kim (Northwind)" <no-reply@mapsite.localhost>'
    assert message.reply_to == [seller.email]
    assert "List-Unsubscribe" not in message.message()


def test_the_invitation_has_both_parts_and_names_the_inviter(org, seller, mailoutbox):
    _, _, link = invitation_send(
        org=org, invited_by=seller, email="new@northwind.example", role="rep"
    )
    (message,) = mailoutbox
    html = assert_two_simple_parts(message)
    assert link in message.body and f'href="{link}"' in html
    assert message.from_email == '"Sarah Kim (Northwind)" <no-reply@mapsite.localhost>'
    assert message.reply_to == [seller.email]


def test_a_display_name_is_quoted_and_stripped_of_control_characters(org, seller, mailoutbox):
    seller.name = 'Eve "Boss"\r\nBcc: x@evil.example'
    seller.save()
    org.name = "Nörthwind <Sales>"
    org.save()
    invitation_send(org=org, invited_by=seller, email="new@northwind.example", role="rep")
    (message,) = mailoutbox
    mime = message.message()
    assert mime["Bcc"] is None
    assert "no-reply@mapsite.localhost" in mime["From"]
    assert "\r" not in message.from_email and "\n" not in message.from_email
    assert message.from_email == (
        '"Eve \\"Boss\\" Bcc: x@evil.example (Nörthwind <Sales>)" <no-reply@mapsite.localhost>'
    )
    raw_from = [line for line in mime.as_bytes().split(b"\n") if line.startswith(b"From:")]
    assert raw_from and raw_from[0].isascii() and b"=?utf-8?" in raw_from[0]  # encoded


def test_the_organisations_sender_address_is_used_with_the_sellers_name(
    seller, room, late_task, mailoutbox
):
    from alerts.models import AlertSettings

    AlertSettings.objects.create(org=room.org, sender_email="deals@northwind.example")
    message = alert_email(mailoutbox, late_task)
    assert message.from_email == '"Sarah Kim (Northwind)" <deals@northwind.example>'


# --- stopping reminders ------------------------------------------------------------------


def stop_url(room, address):
    return reverse("email_stop", args=[stop_token(room, address)])


def test_get_asks_and_does_not_stop_post_stops_and_the_seller_is_told(
    client, seller, room, maria, owner_client
):
    url = stop_url(room, "maria@acme.example")
    page = client.get(url)
    assert page.status_code == 200
    assert b"<form" in page.content and b"Stop reminders" in page.content
    assert not EmailOptOut.objects.exists()

    done = client.post(url)
    assert done.status_code == 200
    assert b"will not get" in done.content
    opt_out = EmailOptOut.objects.get()
    assert (opt_out.org_id, opt_out.room_id, opt_out.address) == (
        room.org_id,
        room.pk,
        "maria@acme.example",
    )
    entry = ActivityEvent.objects.get(room=room, verb=ActivityEvent.Verb.REMINDERS_STOPPED)
    assert str(entry).startswith("Maria Lopez stopped email reminders for")
    # Posting again changes nothing.
    assert client.post(url).status_code == 200
    assert EmailOptOut.objects.count() == 1
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.REMINDERS_STOPPED).count() == 1
    # The seller sees it on the room's alerts page.
    panel = owner_client.get(reverse("room_alerts", args=[room.pk]))
    assert b"stopped email reminders" in panel.content and b"maria@acme.example" in panel.content
    # And on Maria's row of the stakeholder map.
    room_page = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    row = room_page[room_page.index(f'id="stakeholder-{maria.pk}"') :]
    assert "stopped email reminders" in row[: row.index("</form>")]


def test_changed_your_mind_turns_reminders_back_on_and_the_seller_is_told(
    client, room, maria, owner_client
):
    url = stop_url(room, "maria@acme.example")
    client.post(url)
    # Opening the link again says they are stopped and offers to undo it.
    page = client.get(url).content.decode()
    assert "Reminders stopped" in page and "Turn reminders back on" in page
    resumed = client.post(url, {"action": "resume"})
    assert resumed.status_code == 200
    assert "Reminders are on again" in resumed.content.decode()
    assert not EmailOptOut.objects.filter(room=room).exists()
    entry = ActivityEvent.objects.get(room=room, verb=ActivityEvent.Verb.REMINDERS_RESUMED)
    assert entry.actor_label == "Maria Lopez"
    log = owner_client.get(reverse("rooms:activity", args=[room.pk])).content.decode()
    assert "turned email reminders for this room back on" in log
    # Resuming twice changes nothing; stopping again works.
    client.post(url, {"action": "resume"})
    assert ActivityEvent.objects.filter(verb=ActivityEvent.Verb.REMINDERS_RESUMED).count() == 1
    client.post(url)
    assert EmailOptOut.objects.filter(room=room).count() == 1


def test_one_click_post_from_a_mail_client_stops(client, room, maria):
    response = client.post(stop_url(room, "maria@acme.example"), {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    assert EmailOptOut.objects.filter(room=room).count() == 1


@pytest.mark.parametrize("token", ["nonsense", "a" * 300, "eyJ4IjoxfQ:1abc:forged"])
def test_a_bad_or_forged_token_is_a_clear_400_not_a_500(client, token):
    for method in (client.get, client.post):
        response = method(reverse("email_stop", args=[token]))
        assert response.status_code == 400
        assert b"link is not valid" in response.content
    assert not EmailOptOut.objects.exists()


def test_a_token_naming_another_organisations_room_touches_nothing(client, room, other_org):
    elsewhere = RoomFactory(org=other_org)
    # Signed by us, but for a room id of one organisation with another's id.
    forged = signing.dumps(
        {"o": str(room.org_id), "r": str(elsewhere.pk), "a": "maria@acme.example"},
        salt="alerts.stop-reminders",
        compress=True,
    )
    assert client.post(reverse("email_stop", args=[forged])).status_code == 404
    assert not EmailOptOut.objects.exists()
    # A token made with another salt (the ask-for-a-link page's) does not stop anything.
    from alerts.optout import new_link_token

    other = new_link_token(room, "maria@acme.example")
    assert client.post(reverse("email_stop", args=[other])).status_code == 400


def test_the_next_delivery_skips_that_address_for_that_room_only(
    client, seller, room, late_task, maria, mailoutbox
):
    client.post(stop_url(room, "MARIA@acme.example"))
    other_room = RoomFactory(org=room.org, owner=seller)
    other_maria = StakeholderFactory(
        room=other_room, name="Maria Lopez", email="maria@acme.example", role=DecisionRole.CHAMPION
    )
    plan = PlanFactory(room=other_room, org=room.org)
    other_task = TaskFactory(
        milestone=MilestoneFactory(plan=plan),
        title="Sign DPA",
        due_date=late_task.due_date,
        owner=other_maria,
    )
    sweep_overdue()
    for n in Notification.objects.filter(channel="email"):
        delivery.deliver(n.pk)
    here = Notification.objects.get(task=late_task, channel="email")
    there = Notification.objects.get(task=other_task, channel="email")
    assert here.status == Status.SKIPPED and here.last_error == OPTED_OUT
    assert there.status == Status.SENT
    assert [m.subject for m in mailoutbox] == ["Overdue: Sign DPA (8 days late)"]


# --- asking for a new link -------------------------------------------------------------


def test_asking_for_a_new_link_tells_the_seller_and_says_the_same_for_anyone(
    client, seller, room, maria, mailoutbox
):
    from alerts.optout import new_link_token

    known = reverse("email_new_link", args=[new_link_token(room, "maria@acme.example")])
    unknown = reverse("email_new_link", args=[new_link_token(room, "nobody@acme.example")])
    assert client.get(known).status_code == 200
    assert mailoutbox == []  # nothing on GET

    answers = [client.post(known), client.post(unknown)]
    assert [a.status_code for a in answers] == [200, 200]
    same = [CSRF.sub("", a.content.decode()) for a in answers]  # masked differently each time
    assert same[0] == same[1]
    (message,) = mailoutbox  # only the known person's request reaches the seller
    assert message.to == [seller.email]
    assert "Maria Lopez" in message.body and "maria@acme.example" in message.body
    assert_two_simple_parts(message)
    # A second click soon after does not send another.
    client.post(known)
    assert len(mailoutbox) == 1
    assert client.get(reverse("email_new_link", args=["forged"])).status_code == 400
