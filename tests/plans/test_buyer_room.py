"""The buyer's room through a personal link: what it shows, what a buyer may change
(and only through the sellers' own service layer), scope by track, co-creation,
comments both sides read, agreement, tenancy, escaping, and a page that stays small
and costs a fixed number of queries."""

import datetime
import re

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import dateformat, timezone

from plans.models import Comment, Milestone, Plan, Task, TaskStatus
from plans.services import buyer_task_update, plan_start
from rooms.actors import Actor
from rooms.models import ActivityEvent, ActorKind, Room
from rooms.revision import room_touch
from stakeholders import links
from stakeholders.models import Scope, Side, Track, ViewEvent
from tests.conftest import buyer_client
from tests.factories import (
    DecisionCriterionFactory,
    MilestoneFactory,
    PlanFactory,
    RiskFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
ROOM = "/b/room/"
EVIL = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def days(n):
    return timezone.now().date() + datetime.timedelta(days=n)


@pytest.fixture
def plan(room):
    return PlanFactory(room=room, org=room.org)


@pytest.fixture
def me(room):
    return StakeholderFactory(
        room=room, name="Maria Lopez", email="maria@acme.example", track=Track.BUSINESS
    )


@pytest.fixture
def rep(room):
    return StakeholderFactory(
        room=room,
        side=Side.SELLER,
        name="Sam Rep",
        email="sam@northwind.example",
        title="Account executive",
    )


@pytest.fixture
def milestone(plan):
    return MilestoneFactory(
        plan=plan, title="Business case approved", track=Track.BUSINESS, target_date=days(20)
    )


@pytest.fixture
def my_task(milestone, me):
    return TaskFactory(
        milestone=milestone, owner=me, title="Present business case", due_date=days(5)
    )


@pytest.fixture
def seller_task(milestone, rep):
    return TaskFactory(milestone=milestone, owner=rep, side=Side.SELLER, title="Send pricing")


@pytest.fixture
def buyer(me):
    return buyer_client(me)


def page(client):
    response = client.get(ROOM)
    assert response.status_code == 200
    return response.content.decode()


def section(html, heading_id):
    """The HTML of the <section> labelled by ``heading_id``."""
    match = re.search(rf'<section[^>]*aria-labelledby="{heading_id}".*?</section>', html, re.S)
    assert match, heading_id
    return match.group(0)


def task_html(html, task):
    match = re.search(rf'<article id="task-{task.pk}".*?</article>', html, re.S)
    return match.group(0) if match else None


def save(client, task, field, value, *, version=None, **extra):
    data = {"_field": field, field: value, "version": version or task.version} | extra
    return client.post(reverse("buyer:task_save", args=[task.pk]), data, **HX)


# --- what the room shows -----------------------------------------------------------------------


def test_room_shows_the_goal_close_date_with_its_reason_and_go_live(buyer, room, milestone):
    Room.objects.filter(pk=room.pk).update(
        goal="Close the books in 4 days",
        close_reason="Budget expires at fiscal year end",
        go_live_date=days(90),
    )
    html = page(buyer)
    assert "Close the books in 4 days" in html
    assert dateformat.format(room.target_close_date, "D j M Y") in html
    assert "Budget expires at fiscal year end" in html
    assert f"<dt>Go-live</dt><dd>{dateformat.format(days(90), 'D j M Y')}</dd>" in html


def test_room_shows_the_next_review_date(buyer, room, plan):
    Room.objects.filter(pk=room.pk).update(
        review_weekday=1, review_time=datetime.time(15, 30), review_duration_minutes=45
    )
    room.refresh_from_db()
    html = page(buyer)
    shown = dateformat.format(room.next_review(), "D j M Y")
    assert f"<dt>Next review</dt><dd>{shown}, 15:30 (UTC, 45 min)" in html


def test_next_review_is_shown_in_the_rooms_time_zone(buyer, room, plan):
    Room.objects.filter(pk=room.pk).update(
        timezone="America/New_York", review_weekday=2, review_time=datetime.time(10, 0)
    )
    html = page(buyer)
    assert re.search(
        r"<dt>Next review</dt><dd>\w{3} \d+ \w{3} \d{4}, 10:00 \(America/New_York", html
    )


def test_room_without_a_review_says_so(buyer, plan):
    assert "<dt>Next review</dt><dd>not scheduled yet</dd>" in page(buyer)


def test_timeline_shows_milestones_and_today(buyer, plan, room):
    late = MilestoneFactory(plan=plan, title="Security review", target_date=days(-3))
    TaskFactory(milestone=late, title="Fill in the questionnaire")
    MilestoneFactory(plan=plan, title="Signature", target_date=days(30))
    html = section(page(buyer), "timeline-h")
    assert html.count('class="tl-point') == 2
    assert "Security review" in html and "Signature" in html
    assert 'class="tl-today"' in html
    assert f"Today {dateformat.format(room.today(), 'j M')}" in html
    assert "(late)" in html  # the one past its date with work open


def test_what_you_owe_lists_my_open_tasks_soonest_first(buyer, milestone, me, room):
    TaskFactory(milestone=milestone, owner=me, title="Later one", due_date=days(9))
    TaskFactory(milestone=milestone, owner=me, title="No date yet", due_date=None)
    TaskFactory(milestone=milestone, owner=me, title="Soonest", due_date=days(1))
    TaskFactory(
        milestone=milestone, owner=me, title="Already done", due_date=days(0), status="done"
    )
    colleague = StakeholderFactory(room=room)
    TaskFactory(milestone=milestone, owner=colleague, title="Someone else's", due_date=days(0))
    owe = section(page(buyer), "owe-h")
    titles = re.findall(r'<a href="#task-[^"]+">([^<]+)</a>', owe)
    assert titles == ["Soonest", "Later one", "No date yet"]


def test_what_you_owe_shows_overdue_days(buyer, milestone, me):
    TaskFactory(milestone=milestone, owner=me, title="Late", due_date=days(-2))
    assert "2 days late" in section(page(buyer), "owe-h")


def test_what_you_owe_comes_before_the_full_plan(buyer, my_task):
    html = page(buyer)
    assert html.index('id="owe-h"') < html.index('id="plan-h"')
    assert task_html(html, my_task) is not None


def test_nothing_owed_is_said_plainly(buyer, plan):
    assert "Nothing open for you right now." in section(page(buyer), "owe-h")


def test_sellers_contacts_are_listed(buyer, rep, room):
    contacts = section(page(buyer), "contacts-h")
    assert "Sam Rep" in contacts and "Account executive" in contacts
    assert 'href="mailto:sam@northwind.example"' in contacts
    assert "Maria Lopez" not in contacts


def test_without_seller_people_the_room_owner_is_the_contact(buyer, room, plan):
    assert room.owner.display_name in section(page(buyer), "contacts-h")


def test_criteria_and_risks_are_shown_with_the_whole_plan(buyer, plan):
    DecisionCriterionFactory(plan=plan, title="Integrates with SAP")
    RiskFactory(plan=plan, title="Budget freeze in Q1", mitigation="Sign before Dec")
    html = page(buyer)
    assert "Integrates with SAP" in section(html, "criteria-h")
    risks = section(html, "risks-h")
    assert "Budget freeze in Q1" in risks and "Sign before Dec" in risks


def test_criteria_and_risks_are_hidden_from_a_track_scoped_person(plan, room):
    DecisionCriterionFactory(plan=plan, title="Integrates with SAP")
    RiskFactory(plan=plan, title="Budget freeze in Q1")
    legal = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.LEGAL)
    html = page(buyer_client(legal))
    assert "Integrates with SAP" not in html and "Budget freeze in Q1" not in html
    assert 'id="criteria-h"' not in html and 'id="risks-h"' not in html


def test_room_without_a_plan_still_opens(buyer):
    html = page(buyer)
    assert "The plan has no milestones yet." in html
    assert "We agree to this plan" not in html


def test_looking_at_the_room_is_recorded(buyer, me, plan):
    page(buyer)
    kinds = list(ViewEvent.objects.filter(stakeholder=me).values_list("kind", flat=True))
    assert sorted(kinds) == ["opened_link", "room"]


def test_opening_a_thread_is_recorded_with_the_task(buyer, me, my_task):
    response = buyer.post(reverse("buyer:task_viewed", args=[my_task.pk]), **HX)
    assert response.status_code == 204
    view = ViewEvent.objects.get(kind=ViewEvent.Kind.TASK)
    assert view.stakeholder == me and view.target_label == "Present business case"


def test_room_shows_whose_room_it_is(buyer):
    html = page(buyer)
    assert '<span class="who">Maria Lopez</span>' in html


# --- updating buyer-side tasks -----------------------------------------------------------------


def test_buyer_marks_their_task_done(buyer, my_task, room):
    revision = Room.objects.get(pk=room.pk).revision
    response = save(buyer, my_task, "status", "done")
    assert response.status_code == 200
    assert b"Saved" in response.content
    assert b'name="version" value="2"' in response.content
    my_task.refresh_from_db()
    assert my_task.status == TaskStatus.DONE and my_task.version == 2
    assert Room.objects.get(pk=room.pk).revision > revision


def test_a_task_reads_as_text_with_its_status_and_the_fields_wait_behind_add_a_note(buyer, my_task):
    my_task.notes = "Waiting on the CFO's calendar"
    my_task.save()
    html = page(buyer)
    card = re.search(rf'<article id="task-{my_task.pk}".*?</article>', html, re.S).group(0)
    assert '<span class="chip chip-not_started">Not started</span>' in card
    assert '<p class="b-note">Waiting on the CFO&#x27;s calendar</p>' in card
    assert ">Mark done</button>" in card
    assert "Edit the note or status</summary>" in card
    # Read first, edit second: no field is on the page until the person asks for it.
    assert "<select" not in card and 'name="notes"' not in card


def test_mark_done_saves_the_status_alone_and_redraws_the_task(buyer, my_task, room):
    my_task.notes = "theirs"
    my_task.save()
    response = buyer.post(
        reverse("buyer:task_save", args=[my_task.pk]),
        # The row's other inputs go with the button; only the status is saved.
        {"mark": "done", "status": "blocked", "notes": "stale draft", "version": "2"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    assert response["HX-Retarget"] == f"#task-{my_task.pk}"
    assert response["HX-Reswap"] == "outerHTML"
    html = response.content.decode().strip()
    assert html.startswith(f'<article id="task-{my_task.pk}" class="b-task is-done')
    assert '<span class="saved small">Saved</span>' in html  # read out by #announce
    assert '<span class="chip chip-done">Done</span>' in html
    assert "Mark done" not in html and "autofocus" in html
    my_task.refresh_from_db()
    assert (my_task.status, my_task.notes) == (TaskStatus.DONE, "theirs")


def test_mark_done_without_javascript_comes_back_to_the_room(buyer, my_task):
    response = buyer.post(
        reverse("buyer:task_save", args=[my_task.pk]), {"mark": "done", "version": "1"}
    )
    assert response.status_code == 302 and response["Location"] == reverse("buyer:room")
    assert Task.objects.get(pk=my_task.pk).status == TaskStatus.DONE


def test_add_a_note_opens_the_fields_of_that_task(buyer, my_task, seller_task):
    url = reverse("buyer:task_edit", args=[my_task.pk])
    html = buyer.get(url, headers={"HX-Request": "true"}).content.decode()
    assert '<select name="status">' in html and 'name="notes"' in html and "evidence" in html
    # Without JavaScript: the room, with this task's fields open.
    response = buyer.get(url)
    assert response["Location"] == f"{reverse('buyer:room')}?edit={my_task.pk}#task-{my_task.pk}"
    room_html = buyer.get(response["Location"]).content.decode()
    card = re.search(rf'<article id="task-{my_task.pk}".*?</article>', room_html, re.S).group(0)
    assert '<details class="b-edit" id="edit-' in card and " open>" in card
    assert '<select name="status">' in card
    # The seller's own task has no fields for the buyer; garbage in ?edit= is ignored.
    edit_seller = reverse("buyer:task_edit", args=[seller_task.pk])
    assert buyer.get(edit_seller, headers={"HX-Request": "true"}).status_code == 404
    assert buyer.get(reverse("buyer:room") + "?edit=nonsense").status_code == 200


def test_add_a_note_is_not_there_for_a_task_outside_the_buyers_scope(room, plan):
    legal = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.LEGAL)
    tech = MilestoneFactory(plan=plan, track=Track.TECHNICAL)
    hidden = TaskFactory(milestone=tech, side=Side.BUYER, owner=None)
    url = reverse("buyer:task_edit", args=[hidden.pk])
    assert buyer_client(legal).get(url, headers={"HX-Request": "true"}).status_code == 404
    # ...nor for a task of another room.
    elsewhere = TaskFactory(side=Side.BUYER, owner=None)
    url = reverse("buyer:task_edit", args=[elsewhere.pk])
    assert buyer_client(legal).get(url, headers={"HX-Request": "true"}).status_code == 404


def test_after_adding_a_task_the_box_stays_open_for_the_next_one(buyer, milestone):
    url = reverse("buyer:task_add", args=[milestone.pk])
    html = buyer.post(url, {"title": "Book the CFO slot"}, **HX).content.decode()
    box = re.search(rf'<input id="b-add-{milestone.pk}"[^>]*>', html, re.S).group(0)
    assert "autofocus" in box and "value=" not in box and "aria-invalid" not in box
    assert '<span class="saved small" data-announce>Added “Book the CFO slot”.</span>' in html
    # Without JavaScript: back to the room, with the same news as a message.
    response = buyer.post(url, {"title": "Second"}, follow=True)
    assert "Added “Second”." in response.content.decode()


def test_buyer_change_is_logged_with_the_stakeholder_as_actor(buyer, my_task, me):
    save(buyer, my_task, "status", "in_progress")
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.UPDATED, target_id=str(my_task.pk))
    assert event.actor_kind == ActorKind.STAKEHOLDER
    assert event.actor_label == "Maria Lopez (Buyer)"
    assert event.actor_ref == str(me.pk) and event.actor_user is None
    assert event.changes["status"] == {
        "label": "Status",
        "from": "Not started",
        "to": "In progress",
    }
    assert event.target_version == 2


@pytest.mark.parametrize(
    "field,value", [("notes", "Waiting on the CFO"), ("evidence", "Approval email, 14:02")]
)
def test_buyer_updates_notes_and_evidence(buyer, my_task, field, value):
    assert save(buyer, my_task, field, value).status_code == 200
    my_task.refresh_from_db()
    assert getattr(my_task, field) == value


def test_buyer_updates_a_colleagues_buyer_side_task(buyer, milestone, room):
    colleague = StakeholderFactory(room=room)
    theirs = TaskFactory(milestone=milestone, owner=colleague)
    assert save(buyer, theirs, "status", "blocked").status_code == 200
    theirs.refresh_from_db()
    assert theirs.status == TaskStatus.BLOCKED


def test_buyer_updates_an_unowned_buyer_side_task(buyer, milestone):
    open_task = TaskFactory(milestone=milestone, owner=None, side=Side.BUYER)
    assert save(buyer, open_task, "status", "in_progress").status_code == 200


@pytest.mark.parametrize(
    "field,value",
    [("title", "Renamed by the buyer"), ("due_date", "2030-01-01"), ("owner", "")],
)
def test_buyer_cannot_change_title_due_date_or_owner(buyer, my_task, field, value):
    response = save(buyer, my_task, field, value)
    assert response.status_code == 422
    fresh = Task.objects.get(pk=my_task.pk)
    assert (fresh.title, fresh.due_date, fresh.owner_id, fresh.version) == (
        my_task.title,
        my_task.due_date,
        my_task.owner_id,
        1,
    )


def test_fields_beyond_status_notes_evidence_are_ignored_in_a_full_form_post(buyer, my_task, rep):
    data = {
        "status": "done",
        "title": "Renamed",
        "due_date": "2030-01-01",
        "owner": str(rep.pk),
        "version": 1,
    }
    response = buyer.post(reverse("buyer:task_save", args=[my_task.pk]), data)
    assert response.status_code == 302  # without JavaScript: back to the room
    fresh = Task.objects.get(pk=my_task.pk)
    assert fresh.status == TaskStatus.DONE
    assert (fresh.title, fresh.due_date, fresh.owner_id) == (
        my_task.title,
        my_task.due_date,
        my_task.owner_id,
    )


def test_service_refuses_changes_beyond_status_notes_evidence(me, my_task):
    from django.core.exceptions import ValidationError

    link, _ = links.link_issue(actor=Actor(), room=me.room, stakeholder=me)
    with pytest.raises(ValidationError):
        buyer_task_update(
            access=links.BuyerAccess(link),
            task_id=my_task.pk,
            base_version=1,
            changes={"title": "Renamed"},
        )
    my_task.refresh_from_db()
    assert my_task.title == "Present business case"


def test_buyer_cannot_edit_a_seller_side_task(buyer, seller_task):
    response = save(buyer, seller_task, "status", "done")
    assert response.status_code == 422
    assert b"only they update it" in response.content
    seller_task.refresh_from_db()
    assert seller_task.status == TaskStatus.NOT_STARTED and seller_task.version == 1
    assert not ActivityEvent.objects.filter(verb=ActivityEvent.Verb.UPDATED).exists()


def test_buyer_cannot_edit_an_unowned_seller_side_task(buyer, milestone):
    theirs = TaskFactory(milestone=milestone, owner=None, side=Side.SELLER)
    assert save(buyer, theirs, "notes", "mine now").status_code == 422
    theirs.refresh_from_db()
    assert theirs.notes == ""


def test_seller_side_tasks_are_read_only_on_the_page(buyer, my_task, seller_task):
    html = page(buyer)
    assert f'action="{reverse("buyer:task_save", args=[my_task.pk])}"' in task_html(html, my_task)
    theirs = task_html(html, seller_task)
    assert theirs is not None
    assert f'action="{reverse("buyer:task_save", args=[seller_task.pk])}"' not in theirs
    assert "<select" not in theirs


def test_invalid_status_is_refused(buyer, my_task):
    assert save(buyer, my_task, "status", "shipped").status_code == 422
    my_task.refresh_from_db()
    assert my_task.status == TaskStatus.NOT_STARTED


def test_stale_edit_of_a_moved_field_is_a_conflict(buyer, owner_client, my_task, room):
    seller_save = owner_client.post(
        reverse("plans:task_save", args=[room.pk, my_task.pk]),
        {"_field": "status", "status": "blocked", "version": 1},
        **HX,
    )
    assert seller_save.status_code == 200
    response = save(buyer, my_task, "status", "done", version=1)
    assert response.status_code == 409
    assert "Someone changed this while you were editing" in response.content.decode()
    my_task.refresh_from_db()
    assert my_task.status == TaskStatus.BLOCKED


def test_stale_edit_of_another_field_merges(buyer, owner_client, my_task, room):
    owner_client.post(
        reverse("plans:task_save", args=[room.pk, my_task.pk]),
        {"_field": "title", "title": "Present the business case", "version": 1},
        **HX,
    )
    assert save(buyer, my_task, "notes", "Booked for Tuesday", version=1).status_code == 200
    my_task.refresh_from_db()
    assert my_task.notes == "Booked for Tuesday" and my_task.version == 3


def test_seller_sees_the_buyers_update_with_the_buyer_named(buyer, owner_client, my_task, room):
    save(buyer, my_task, "evidence", "Approval email from David")
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "Approval email from David" in html
    said = re.sub(r"<[^>]+>", "", html)
    assert f"Maria Lopez (buyer) edited the completion evidence of {my_task.title}" in said


# --- track scope ---------------------------------------------------------------------------------


@pytest.fixture
def tracks(plan, room):
    legal = StakeholderFactory(room=room, name="Lee Legal", scope=Scope.TRACK, track=Track.LEGAL)
    legal_ms = MilestoneFactory(plan=plan, title="Contract signed", track=Track.LEGAL)
    tech_ms = MilestoneFactory(
        plan=plan, title="Pilot live", track=Track.TECHNICAL, target_date=days(12)
    )
    return {
        "legal": legal,
        "legal_task": TaskFactory(milestone=legal_ms, title="Redline the MSA", notes="Clause 9"),
        "tech_task": TaskFactory(
            milestone=tech_ms, title="Configure SSO", notes="Okta tenant id 42"
        ),
        "owned_elsewhere": TaskFactory(
            milestone=tech_ms, owner=legal, title="Approve the DPA wording"
        ),
        "tech_ms": tech_ms,
    }


def test_track_scoped_person_sees_their_track_and_their_own_tasks_only(tracks):
    html = page(buyer_client(tracks["legal"]))
    assert task_html(html, tracks["legal_task"]) is not None
    assert task_html(html, tracks["owned_elsewhere"]) is not None
    assert task_html(html, tracks["tech_task"]) is None
    assert "Configure SSO" not in html and "Okta tenant id 42" not in html


def test_track_scoped_person_sees_every_milestones_title_and_date(tracks):
    html = page(buyer_client(tracks["legal"]))
    assert "Pilot live" in html and "Contract signed" in html
    assert dateformat.format(days(12), "D j M Y") in html


def test_track_scoped_person_does_not_see_other_tracks_comments(tracks, owner, room):
    from plans.services import comment_create

    comment_create(actor=Actor(user=owner), room=room, task=tracks["tech_task"], body="SSO-SECRET")
    comment_create(actor=Actor(user=owner), room=room, task=tracks["legal_task"], body="MSA-NOTE")
    html = page(buyer_client(tracks["legal"]))
    assert "SSO-SECRET" not in html and "MSA-NOTE" in html


def test_whole_plan_person_sees_every_track(tracks, buyer):
    html = page(buyer)
    assert "Configure SSO" in html and "Redline the MSA" in html


@pytest.mark.parametrize(
    "name,data",
    [
        ("buyer:task_save", {"_field": "status", "status": "done", "version": 1}),
        ("buyer:comment_add", {"body": "peek"}),
        ("buyer:task_viewed", {}),
    ],
)
def test_tasks_outside_the_track_are_404(tracks, name, data):
    client = buyer_client(tracks["legal"])
    task = tracks["tech_task"]
    assert client.post(reverse(name, args=[task.pk]), data, **HX).status_code == 404
    task.refresh_from_db()
    assert task.status == TaskStatus.NOT_STARTED
    assert not Comment.objects.exists()
    assert not ViewEvent.objects.filter(kind=ViewEvent.Kind.TASK).exists()


def test_own_track_task_can_be_updated_by_a_track_scoped_person(tracks):
    client = buyer_client(tracks["legal"])
    assert save(client, tracks["legal_task"], "status", "done").status_code == 200
    assert save(client, tracks["owned_elsewhere"], "status", "done").status_code == 200


def test_narrowing_the_scope_applies_on_the_next_request(tracks, room):
    person = StakeholderFactory(room=room, track=Track.LEGAL)
    client = buyer_client(person)
    assert "Configure SSO" in page(client)
    person.scope = Scope.TRACK
    person.save()
    assert "Configure SSO" not in page(client)
    assert (
        client.post(reverse("buyer:task_viewed", args=[tracks["tech_task"].pk])).status_code == 404
    )


# --- co-creation -------------------------------------------------------------------------------


def test_buyer_adds_a_task_owned_by_themselves(buyer, milestone, me):
    response = buyer.post(
        reverse("buyer:task_add", args=[milestone.pk]), {"title": "Book the CFO"}, **HX
    )
    assert response.status_code == 200
    assert "Book the CFO" in response.content.decode()
    task = Task.objects.get(title="Book the CFO")
    assert task.owner == me and task.effective_side == Side.BUYER and task.milestone == milestone
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.CREATED, target_id=str(task.pk))
    assert event.actor_kind == ActorKind.STAKEHOLDER and event.actor_label == "Maria Lopez (Buyer)"


def test_buyer_adds_a_task_for_a_colleague_on_their_side(buyer, milestone, room):
    colleague = StakeholderFactory(room=room)
    buyer.post(
        reverse("buyer:task_add", args=[milestone.pk]),
        {"title": "Check the budget", "owner": str(colleague.pk), "due_date": str(days(3))},
        **HX,
    )
    task = Task.objects.get(title="Check the budget")
    assert task.owner == colleague and task.due_date == days(3)


def test_buyer_cannot_assign_a_task_to_the_seller(buyer, milestone, rep):
    response = buyer.post(
        reverse("buyer:task_add", args=[milestone.pk]),
        {"title": "Your homework", "owner": str(rep.pk)},
        **HX,
    )
    assert response.status_code == 422
    assert not Task.objects.filter(title="Your homework").exists()


def test_buyer_cannot_assign_a_task_to_someone_of_another_room(buyer, milestone, org, owner):
    stranger = StakeholderFactory(room=RoomFactory(org=org, owner=owner))
    response = buyer.post(
        reverse("buyer:task_add", args=[milestone.pk]),
        {"title": "Elsewhere", "owner": str(stranger.pk)},
        **HX,
    )
    assert response.status_code == 422
    assert not Task.objects.filter(title="Elsewhere").exists()


def test_task_without_a_title_is_refused(buyer, milestone):
    response = buyer.post(reverse("buyer:task_add", args=[milestone.pk]), {"title": " "}, **HX)
    assert response.status_code == 422
    assert not Task.objects.exists()


def test_buyer_adds_a_milestone_their_side_leads_in_their_track(room, plan):
    person = StakeholderFactory(room=room, track=Track.SECURITY)
    client = buyer_client(person)
    response = client.post(
        reverse("buyer:milestone_add"),
        {
            "title": "Security questionnaire answered",
            "target_date": str(days(14)),
            "lead_side": Side.SELLER,
            "track": Track.LEGAL,
        },
        **HX,
    )
    assert response.status_code == 200
    milestone = Milestone.objects.get(title="Security questionnaire answered")
    assert milestone.lead_side == Side.BUYER and milestone.track == Track.SECURITY
    assert milestone.target_date == days(14) and milestone.plan == plan
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.CREATED, target_id=str(milestone.pk))
    assert event.actor_kind == ActorKind.STAKEHOLDER


def test_milestone_without_a_title_is_refused(buyer, plan):
    assert buyer.post(reverse("buyer:milestone_add"), {"title": ""}, **HX).status_code == 422
    assert not Milestone.objects.exists()


def test_track_scoped_buyer_sees_the_task_they_added_elsewhere(tracks):
    client = buyer_client(tracks["legal"])
    client.post(
        reverse("buyer:task_add", args=[tracks["tech_ms"].pk]), {"title": "Sign off SSO"}, **HX
    )
    assert "Sign off SSO" in page(client)


def test_co_creation_without_javascript_redirects_back(buyer, milestone):
    response = buyer.post(reverse("buyer:task_add", args=[milestone.pk]), {"title": "No JS"})
    assert response.status_code == 302 and response["Location"] == ROOM
    assert Task.objects.filter(title="No JS").exists()


# --- comments ------------------------------------------------------------------------------------


def test_buyer_comment_is_seen_by_the_seller(buyer, owner_client, my_task, room, me):
    response = buyer.post(
        reverse("buyer:comment_add", args=[my_task.pk]), {"body": "Presented; approved."}, **HX
    )
    assert response.status_code == 200
    assert "Presented; approved." in response.content.decode()
    comment = Comment.objects.get()
    assert comment.author_stakeholder == me and comment.author_user is None
    seller_html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "Presented; approved." in seller_html and "Maria Lopez (Buyer)" in seller_html


def test_a_posted_comment_puts_focus_back_in_the_box_and_updates_the_count(
    buyer, owner_client, my_task, room
):
    for client, url in (
        (buyer, reverse("buyer:comment_add", args=[my_task.pk])),
        (owner_client, reverse("plans:comment_add", args=[room.pk, my_task.pk])),
    ):
        html = client.post(url, {"body": "Noted."}, **HX).content.decode()
        assert re.search(r'<textarea id="comment-[^"]+"[^>]* autofocus>', html)
        count = Comment.objects.filter(task=my_task).count()
        assert f'<span id="comments-n-{my_task.pk}" hx-swap-oob="true">{count}</span>' in html
    page_html = page(buyer)
    assert f'Comments (<span id="comments-n-{my_task.pk}">2</span>)' in page_html
    assert " autofocus>" not in task_html(page_html, my_task)


def test_seller_comment_is_seen_by_the_buyer(buyer, owner_client, owner, my_task, room):
    response = owner_client.post(
        reverse("plans:comment_add", args=[room.pk, my_task.pk]),
        {"body": "Deck attached in the email."},
        **HX,
    )
    assert response.status_code == 200
    thread = task_html(page(buyer), my_task)
    assert "Deck attached in the email." in thread and owner.display_name in thread


def test_buyer_comments_on_a_seller_side_task(buyer, seller_task):
    response = buyer.post(
        reverse("buyer:comment_add", args=[seller_task.pk]), {"body": "When?"}, **HX
    )
    assert response.status_code == 200
    assert Comment.objects.get().task == seller_task


def test_buyer_comment_is_logged_with_the_stakeholder_as_actor(buyer, my_task, room):
    revision = Room.objects.get(pk=room.pk).revision
    buyer.post(reverse("buyer:comment_add", args=[my_task.pk]), {"body": "Done."}, **HX)
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.COMMENTED)
    assert event.actor_kind == ActorKind.STAKEHOLDER and event.actor_label == "Maria Lopez (Buyer)"
    assert Room.objects.get(pk=room.pk).revision > revision


@pytest.mark.parametrize("body", ["", "   \n ", "x" * 5001])
def test_empty_or_oversized_comment_is_refused(buyer, my_task, body):
    response = buyer.post(reverse("buyer:comment_add", args=[my_task.pk]), {"body": body}, **HX)
    assert response.status_code == 422
    assert 'role="alert"' in response.content.decode()
    assert not Comment.objects.exists()


def test_comment_of_5000_characters_is_accepted(buyer, my_task):
    response = buyer.post(
        reverse("buyer:comment_add", args=[my_task.pk]), {"body": "x" * 5000}, **HX
    )
    assert response.status_code == 200


def test_comment_without_javascript_redirects_to_the_task(buyer, my_task):
    response = buyer.post(reverse("buyer:comment_add", args=[my_task.pk]), {"body": "Hi"})
    assert response.status_code == 302
    assert response["Location"] == f"{ROOM}#task-{my_task.pk}"


# --- agreement -----------------------------------------------------------------------------------


def test_buyer_agrees_to_the_plan(buyer, my_task, me, plan, room):
    revision = Room.objects.get(pk=room.pk).revision
    response = buyer.post(reverse("buyer:agree"), follow=True)
    assert response.status_code == 200
    assert "your agreement is recorded" in response.content.decode()
    plan.refresh_from_db()
    assert plan.agreed_by_stakeholder == me and plan.agreed_by == "Maria Lopez (Buyer)"
    assert timezone.now() - plan.agreed_at < datetime.timedelta(minutes=1)
    event = ActivityEvent.objects.get(verb=ActivityEvent.Verb.AGREED)
    assert event.actor_kind == ActorKind.STAKEHOLDER and event.actor_ref == str(me.pk)
    assert Room.objects.get(pk=room.pk).revision > revision


def test_agreement_is_shown_to_both_sides(buyer, owner_client, my_task, room):
    buyer.post(reverse("buyer:agree"))
    assert "by Maria Lopez (Buyer) on" in page(buyer)
    seller_html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "agreed by Maria Lopez (Buyer)" in seller_html


def test_nothing_is_changed_since_agreed_right_after_agreeing(buyer, owner_client, my_task, room):
    buyer.post(reverse("buyer:agree"))
    assert "changed since agreed" not in page(buyer)
    seller_html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "changed since agreed" not in seller_html


def test_moved_due_date_shows_changed_since_agreed_on_both_sides(
    buyer, owner_client, my_task, room
):
    buyer.post(reverse("buyer:agree"))
    response = owner_client.post(
        reverse("plans:task_save", args=[room.pk, my_task.pk]),
        {"_field": "due_date", "due_date": str(days(15)), "version": 1},
        **HX,
    )
    assert response.status_code == 200
    mine = task_html(page(buyer), my_task)
    assert "date changed since agreed (was" in mine
    seller_html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    row = re.search(rf'id="task-{my_task.pk}".*?</form>', seller_html, re.S).group(0)
    assert "changed since agreed" in row


def test_moved_milestone_date_shows_changed_since_agreed(buyer, owner_client, milestone, room):
    buyer.post(reverse("buyer:agree"))
    owner_client.post(
        reverse("plans:milestone_save", args=[room.pk, milestone.pk]),
        {"_field": "target_date", "target_date": str(days(40)), "version": 1},
        **HX,
    )
    assert "date changed since agreed" in page(buyer)
    seller_html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "changed since agreed" in seller_html


def test_task_added_after_agreement_is_marked(buyer, milestone, my_task):
    buyer.post(reverse("buyer:agree"))
    Plan.objects.update(agreed_at=timezone.now() - datetime.timedelta(seconds=1))
    TaskFactory(milestone=milestone, title="Afterthought")
    assert "added since agreed" in page(buyer)


def test_agreeing_without_a_plan_is_a_message_not_an_error(buyer):
    response = buyer.post(reverse("buyer:agree"), follow=True)
    assert response.status_code == 200
    assert "no plan to agree to yet" in response.content.decode()


# --- tenancy: another room, same organisation or not ------------------------------------------


@pytest.fixture(params=["same org", "other org"])
def foreign(request, org, other_org, owner):
    room_b = RoomFactory(org=org if request.param == "same org" else other_org, owner=owner)
    plan_b = PlanFactory(room=room_b, org=room_b.org)
    milestone_b = MilestoneFactory(plan=plan_b, title="Foreign milestone")
    person_b = StakeholderFactory(room=room_b)
    task_b = TaskFactory(milestone=milestone_b, owner=person_b, title="Foreign task")
    return {"room": room_b, "milestone": milestone_b, "task": task_b}


@pytest.mark.parametrize(
    "name,target,data",
    [
        ("buyer:task_save", "task", {"_field": "status", "status": "done", "version": 1}),
        ("buyer:comment_add", "task", {"body": "hello"}),
        ("buyer:task_viewed", "task", {}),
        ("buyer:task_add", "milestone", {"title": "Injected"}),
    ],
)
def test_buyer_of_room_a_gets_404_for_room_b(buyer, plan, foreign, name, target, data):
    url = reverse(name, args=[foreign[target].pk])
    assert buyer.post(url, data, **HX).status_code == 404
    assert buyer.post(url, data).status_code == 404  # without htmx too
    task = Task.objects.get(pk=foreign["task"].pk)
    assert task.status == TaskStatus.NOT_STARTED and task.version == 1
    assert not Comment.objects.exists()
    assert not Task.objects.filter(title="Injected").exists()
    assert not ViewEvent.objects.filter(kind=ViewEvent.Kind.TASK).exists()


def test_buyer_of_room_a_never_sees_room_b(buyer, plan, foreign):
    html = page(buyer)
    assert "Foreign task" not in html and "Foreign milestone" not in html


def test_buyer_of_room_a_agrees_to_room_a_only(buyer, plan, foreign):
    buyer.post(reverse("buyer:agree"))
    assert Plan.objects.get(room=foreign["room"]).agreed_at is None
    assert Plan.objects.get(pk=plan.pk).agreed_at is not None


def test_buyer_milestone_lands_in_room_a(buyer, plan, foreign):
    buyer.post(reverse("buyer:milestone_add"), {"title": "Ours"}, **HX)
    assert Milestone.objects.get(title="Ours").room_id == plan.room_id


def test_buyer_of_room_a_cannot_open_room_bs_seller_pages(buyer, foreign):
    response = buyer.get(reverse("plans:room", args=[foreign["room"].pk]))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_unknown_task_id_is_404(buyer, plan):
    import uuid

    url = reverse("buyer:task_save", args=[uuid.uuid4()])
    assert buyer.post(url, {"status": "done", "version": 1}, **HX).status_code == 404


# --- escaping ---------------------------------------------------------------------------------


@pytest.fixture
def evil_room(room, plan):
    Room.objects.filter(pk=room.pk).update(
        name=EVIL, goal=EVIL, close_reason=EVIL, buyer_company=EVIL
    )
    me = StakeholderFactory(room=room, name=EVIL, title=EVIL)
    StakeholderFactory(room=room, side=Side.SELLER, name=EVIL, title=EVIL)
    milestone = MilestoneFactory(
        plan=plan, title=EVIL, completion_condition=EVIL, target_date=days(3)
    )
    mine = TaskFactory(milestone=milestone, owner=me, title=EVIL, notes=EVIL, evidence=EVIL)
    TaskFactory(milestone=milestone, side=Side.SELLER, title=EVIL, notes=EVIL, evidence=EVIL)
    DecisionCriterionFactory(plan=plan, title=EVIL, notes=EVIL)
    RiskFactory(plan=plan, title=EVIL, mitigation=EVIL)
    Comment.objects.create(
        org=room.org, room=room, task=mine, author_label=EVIL, body=EVIL, author_stakeholder=me
    )
    return {"me": me, "task": mine}


def test_user_text_is_escaped_in_the_full_page(evil_room):
    html = page(buyer_client(evil_room["me"]))
    assert EVIL not in html
    assert html.count(ESCAPED) >= 15


def test_user_text_is_escaped_in_the_task_partial(evil_room):
    client = buyer_client(evil_room["me"])
    task = evil_room["task"]
    response = save(client, task, "notes", EVIL + " again", _row="1")
    assert response.status_code == 200
    html = response.content.decode()
    assert EVIL not in html and ESCAPED in html


def test_echoed_input_is_escaped_in_the_task_meta_partial(evil_room):
    client = buyer_client(evil_room["me"])
    response = save(client, evil_room["task"], "status", EVIL)
    assert response.status_code == 422
    html = response.content.decode()
    assert EVIL not in html and ESCAPED in html  # "Select a valid choice. <…> is not one…"


def test_user_text_is_escaped_in_the_thread_partial(evil_room):
    client = buyer_client(evil_room["me"])
    response = client.post(
        reverse("buyer:comment_add", args=[evil_room["task"].pk]), {"body": EVIL}, **HX
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert EVIL not in html and html.count(ESCAPED) >= 3  # bodies and the author's name


def test_refused_draft_is_escaped_in_the_thread_partial(evil_room):
    client = buyer_client(evil_room["me"])
    body = EVIL + "x" * 5000
    response = client.post(
        reverse("buyer:comment_add", args=[evil_room["task"].pk]), {"body": body}, **HX
    )
    assert response.status_code == 422
    assert EVIL not in response.content.decode()


def test_refused_new_task_title_is_escaped(evil_room, plan):
    client = buyer_client(evil_room["me"])
    milestone = Milestone.objects.get(plan=plan)
    response = client.post(
        reverse("buyer:task_add", args=[milestone.pk]), {"title": EVIL + "x" * 300}, **HX
    )
    assert response.status_code == 422
    html = response.content.decode()
    assert EVIL not in html and ESCAPED in html


def test_refused_new_milestone_title_is_escaped(evil_room):
    client = buyer_client(evil_room["me"])
    response = client.post(reverse("buyer:milestone_add"), {"title": EVIL + "x" * 300}, **HX)
    assert response.status_code == 422
    assert EVIL not in response.content.decode()


def test_buyer_text_is_escaped_on_the_seller_page(evil_room, owner_client, room):
    client = buyer_client(evil_room["me"])
    client.post(reverse("buyer:comment_add", args=[evil_room["task"].pk]), {"body": EVIL}, **HX)
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert EVIL not in html


# --- a fixed number of queries, a small page ------------------------------------------------------


def test_room_page_query_count_does_not_grow_with_the_plan(room, plan, django_assert_num_queries):
    me = StakeholderFactory(room=room)
    client = buyer_client(me)

    def count_for(n_tasks):
        Milestone.objects.for_room(room).delete()
        people = [me] + [StakeholderFactory(room=room) for _ in range(2)]
        for m in range(5):
            milestone = MilestoneFactory(plan=plan, order=m, target_date=days(m))
            for t in range(n_tasks // 5):
                task = TaskFactory(
                    milestone=milestone, owner=people[t % 3], order=t, due_date=days(t)
                )
                Comment.objects.create(
                    org=room.org, room=room, task=task, author_label="x", body="y"
                )
        DecisionCriterionFactory(plan=plan)
        RiskFactory(plan=plan, owner=people[1])
        client.get(ROOM)  # the minute's view is logged (3 queries), a reload's is not
        room_touch(room.pk)  # what every write through a service does: a new render
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(ROOM).status_code == 200
        return len(ctx.captured_queries)

    small, large = count_for(5), count_for(50)
    # The check of the link kept by the view before (its room moved on), the link with
    # its room and plan, the people (with the team's size), milestones with their
    # dependencies, tasks, comments, criteria and risks.
    assert small == large <= 8, (small, large)
    with django_assert_num_queries(1):  # the same revision again: the link's check
        client.get(ROOM)


def test_track_scoped_room_page_query_count_is_fixed(room, plan, django_assert_num_queries):
    me = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.LEGAL)
    client = buyer_client(me)

    def count_for(n_tasks):
        Milestone.objects.for_room(room).delete()
        for m in range(5):
            milestone = MilestoneFactory(plan=plan, order=m, track=Track.LEGAL)
            for t in range(n_tasks // 5):
                TaskFactory(milestone=milestone, owner=me, order=t)
        room_touch(room.pk)
        client.get(ROOM)  # the minute's view is logged
        room_touch(room.pk)
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(ROOM).status_code == 200
        return len(ctx.captured_queries)

    assert count_for(5) == count_for(50) <= 6  # no risks or criteria in a track's scope


def test_whole_buyer_page_is_under_150_kb(room, owner):
    plan_start(actor=Actor(user=owner), room=room, template_slug="enterprise")
    me = StakeholderFactory(room=room)
    for task in Task.objects.for_room(room)[:10]:
        task.owner = me
        task.notes = "A realistic note about what is needed and by when. " * 3
        task.save()
    html = page(buyer_client(me))
    assets = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) + re.findall(
        r'<script src="([^"]+)"', html
    )
    assert any(a.endswith(".css") for a in assets) and any(a.endswith(".js") for a in assets)
    total = len(html.encode())
    for url in assets:
        assert url.startswith("/static/"), url
        path = finders.find(url.removeprefix("/static/"))
        assert path, url
        with open(path, "rb") as fh:
            total += len(fh.read())
    assert total < 150 * 1024, total


def test_lateness_is_told_in_the_buyers_words(buyer, milestone, me):
    """The sweep's levels are the seller's words: the buyer reads how late a task is and
    whether a reminder went out (at +7 the owner and the champion get one by email)."""
    from alerts.sweep import sweep_overdue

    for title, late in (("Three late", 3), ("Eight late", 8)):
        task = TaskFactory(milestone=milestone, owner=me, title=title, due_date=days(-late))
    sweep_overdue()
    html = page(buyer)
    assert "flagged" not in html and "alerted" not in html
    assert "3 days late</span>" in html
    assert "8 days late — reminder sent</span>" in html
    assert task.title in section(html, "owe-h")


# --- who sees this -------------------------------------------------------------------------


def test_the_buyer_is_told_who_sees_the_plan_and_what_the_seller_sees(buyer, me, rep, room):
    colleague = StakeholderFactory(room=room, name="Priya Nair")
    links.link_issue(actor=Actor(), room=room, stakeholder=colleague)
    StakeholderFactory(room=room, name="Nobody Invited")  # no link: no access
    panel = section(page(buyer), "who-sees-h")
    assert "Maria Lopez (you)" in panel and "Priya Nair" in panel
    assert "Nobody Invited" not in panel
    assert "Sam Rep" in panel and room.org.name in panel
    # What the seller sees of the buyer, plainly.
    for seen in ("when you open", "comment threads", "documents you open", "your name"):
        assert seen in panel


def test_a_buyer_who_sees_one_track_is_not_shown_other_buyers(room, rep):
    legal = StakeholderFactory(room=room, name="Mary Legal", scope="track", track=Track.LEGAL)
    other = StakeholderFactory(room=room, name="Priya Nair")
    links.link_issue(actor=Actor(), room=room, stakeholder=other)
    panel = section(page(buyer_client(legal)), "who-sees-h")
    assert "Mary Legal (you)" in panel and "Sam Rep" in panel
    assert "Priya Nair" not in panel and "1 other person at" in panel


def test_the_room_opens_with_how_far_the_plan_is(buyer, milestone, me, room):
    room.target_close_date = days(44)
    room.save()
    TaskFactory(milestone=milestone, owner=me, title="Done one", status="done")
    TaskFactory(milestone=milestone, owner=me, title="Sign the contract", due_date=days(3))
    TaskFactory(milestone=milestone, owner=me, title="Later", due_date=days(9))
    html = page(buyer)
    summary = re.search(r'<div class="b-progress">.*?</div>', html, re.S).group(0)
    text = re.sub(r"<[^>]+>", "", summary)
    assert "1 of 3 steps done · next: Sign the contract, due" in text
    assert "44 days to the target date" in text
    assert summary.count('class="done"') == 1  # one milestone, a third of it done


def test_each_milestone_shows_its_status_and_count_and_a_done_one_is_folded(
    buyer, milestone, me, plan
):
    TaskFactory(milestone=milestone, owner=me, title="One", status="done")
    TaskFactory(milestone=milestone, owner=me, title="Two")
    done = MilestoneFactory(plan=plan, title="Kick-off done", target_date=days(-5))
    TaskFactory(milestone=done, owner=me, title="Kick-off call", status="done")
    from plans.services import milestone_refresh

    milestone_refresh(actor=Actor(), room=plan.room, milestone_ids=[milestone.pk, done.pk])
    html = page(buyer)
    text = re.sub(r"<[^>]+>", "", html)
    assert "In progress 1 of 2 steps done" in re.sub(r"\s+", " ", text)
    folded = re.search(r'<details id="ms-[^"]+-done".*?</details>', html, re.S)
    assert folded and "Kick-off call" in folded.group(0) and "One" not in folded.group(0)
    # Adding a task is one click away, not an open form under every milestone.
    assert html.count('<details class="b-add">') == 2


def test_we_agree_comes_after_the_plan_with_what_is_agreed(buyer, my_task, seller_task, room):
    room.goal = "Close the books in 4 days"
    room.save()
    html = page(buyer)
    assert html.index('id="plan-h"') < html.index("We agree to this plan")
    agree = section(html, "agree-h")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", agree))
    assert "The goal: Close the books in 4 days" in text
    assert "1 milestone: Business case approved (" in text
    assert "Who owns what: Maria Lopez, 1 step · Sam Rep, 1 step" in text
