"""Re-planning: the plan's open work moves with the close date (plans.services.plan_replan),
and the seller's room header offers it when the close date changes."""

import datetime
import json
import re
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.models import Membership
from plans.live.tickets import seller_ticket
from plans.models import Milestone, MilestoneStatus, Task, TaskStatus
from plans.schedule import Schedule
from plans.services import PlanError, plan_agree, plan_replan, plan_start, task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from rooms.revision import RoomReadOnly
from rooms.services import room_close, room_update
from rooms.versioning import StaleWrite
from tests.factories import RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
DAY = datetime.timedelta(days=1)


def a_weekday(day):
    return day + datetime.timedelta(days=(2 - day.weekday()) % 7)


@pytest.fixture
def room(org, owner):
    """A Standard-template room closing on a Wednesday about 60 days out."""
    today = datetime.date.today()
    room = RoomFactory(org=org, owner=owner, target_close_date=a_weekday(today + 60 * DAY))
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    room.refresh_from_db()
    return room


def dates(room):
    tasks = dict(Task.objects.filter(room=room).values_list("pk", "due_date"))
    milestones = dict(Milestone.objects.filter(room=room).values_list("pk", "target_date"))
    return tasks, milestones


def versions(room):
    return {
        **dict(Task.objects.filter(room=room).values_list("pk", "version")),
        **dict(Milestone.objects.filter(room=room).values_list("pk", "version")),
    }


def complete_validation(room, owner):
    """The first milestone's three tasks done: the milestone is done too."""
    milestone = Milestone.objects.get(room=room, title="Technical validation complete")
    for task in Task.objects.filter(milestone=milestone):
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=task.version,
            changes={"status": "done"},
        )
    milestone.refresh_from_db()
    assert milestone.status == MilestoneStatus.DONE
    return milestone


def fresh(room):
    return Room.objects.get(pk=room.pk)


# --- the service -----------------------------------------------------------------------


def test_open_work_moves_by_the_delta_done_work_keeps_its_dates(owner, room):
    done_milestone = complete_validation(room, owner)
    done_ids = {
        done_milestone.pk,
        *Task.objects.filter(milestone=done_milestone).values_list("pk", flat=True),
    }
    flagged = Task.objects.filter(room=room, status=TaskStatus.NOT_STARTED).first()
    Task.objects.filter(pk=flagged.pk).update(overdue_level=3, overdue_for=flagged.due_date)
    Room.objects.filter(pk=room.pk).update(flagged_count=1)
    tasks_before, milestones_before = dates(room)
    versions_before = versions(room)
    room = fresh(room)
    revision, entries, old_close = (
        room.revision,
        ActivityEvent.objects.count(),
        room.target_close_date,
    )
    new_close = old_close + 10 * DAY

    result = plan_replan(actor=Actor(user=owner), room=room, target_close_date=new_close)

    assert isinstance(result, Schedule)
    assert result.target_close == new_close and result.projected_close == new_close
    assert room.target_close_date == new_close  # the caller's room is brought up to date
    tasks_after, milestones_after = dates(room)
    versions_after = versions(room)
    for pk, day in {**tasks_before, **milestones_before}.items():
        moved = {**tasks_after, **milestones_after}[pk]
        if pk in done_ids:
            assert moved == day and versions_after[pk] == versions_before[pk]
        else:
            assert moved == day + 10 * DAY and versions_after[pk] == versions_before[pk] + 1
    flagged.refresh_from_db()
    assert (flagged.overdue_level, flagged.overdue_for) == (0, None)
    stored = fresh(room)
    assert stored.target_close_date == new_close
    assert stored.flagged_count == 0  # recounted
    assert stored.projected_close_date == new_close and stored.slip_days == 0
    assert stored.revision == revision + 1
    assert ActivityEvent.objects.count() == entries + 1
    event = ActivityEvent.objects.filter(room=room).first()
    assert event.verb == ActivityEvent.Verb.REPLANNED
    assert event.room_revision == revision + 1
    assert event.target_label == "the plan: 13 open items moved 10 days later"
    # Each moved row is named with its old and new date; the done ones are not.
    assert set(event.changes) == {str(room.pk)} | {
        str(pk) for pk in {**tasks_before, **milestones_before} if pk not in done_ids
    }
    assert event.changes[str(room.pk)]["from"] == old_close.isoformat()
    assert event.changes[str(room.pk)]["to"] == new_close.isoformat()
    assert "re-planned" in str(event)


def test_the_close_date_moving_earlier_moves_the_open_work_earlier(owner, room):
    tasks_before, _ = dates(room)
    plan_replan(
        actor=Actor(user=owner),
        room=room,
        target_close_date=room.target_close_date - 7 * DAY,
    )
    tasks_after, _ = dates(room)
    assert all(tasks_after[pk] == day - 7 * DAY for pk, day in tasks_before.items())


def test_moving_by_zero_days_is_a_no_op(owner, room):
    before, revision, entries = versions(room), room.revision, ActivityEvent.objects.count()
    result = plan_replan(
        actor=Actor(user=owner), room=room, target_close_date=room.target_close_date
    )
    assert isinstance(result, Schedule)
    assert versions(room) == before
    assert fresh(room).revision == revision and ActivityEvent.objects.count() == entries


@pytest.mark.parametrize("value", [None, "", "2030-02-30", "soon", 42])
def test_a_missing_or_invalid_date_is_refused(owner, room, value):
    before = dates(room)
    with pytest.raises(ValidationError) as refused:
        plan_replan(actor=Actor(user=owner), room=room, target_close_date=value)
    assert "target_close_date" in refused.value.message_dict
    assert dates(room) == before


def test_a_close_date_before_go_live_is_kept(owner, room):
    Room.objects.filter(pk=room.pk).update(go_live_date=room.target_close_date + 5 * DAY)
    before = dates(room)
    with pytest.raises(ValidationError) as refused:
        plan_replan(
            actor=Actor(user=owner), room=room, target_close_date=room.target_close_date + 9 * DAY
        )
    assert refused.value.message_dict == {
        "target_close_date": ["Go-live comes after the target close date."]
    }
    assert dates(room) == before


def test_a_lost_deal_refuses_like_every_write(owner, org, room):
    membership = Membership.objects.get(user=owner, org=org)
    room_close(
        actor=Actor(user=owner), membership=membership, room_id=room.pk, outcome="lost", reason="x"
    )
    before, entries = dates(room), ActivityEvent.objects.count()
    with pytest.raises(RoomReadOnly):
        plan_replan(
            actor=Actor(user=owner), room=room, target_close_date=room.target_close_date + DAY
        )
    assert dates(room) == before and ActivityEvent.objects.count() == entries


def test_the_work_moves_from_the_previous_date_once_the_header_saved_the_new_one(owner, org, room):
    membership = Membership.objects.get(user=owner, org=org)
    old_close, new_close = room.target_close_date, room.target_close_date + 14 * DAY
    room = room_update(
        actor=Actor(user=owner),
        membership=membership,
        room_id=room.pk,
        base_version=room.version,
        changes={"target_close_date": new_close},
    )
    tasks_before, _ = dates(room)
    room_version, offered = room.version, room.revision

    plan_replan(
        actor=Actor(user=owner),
        room=room,
        target_close_date=new_close,
        previous_close_date=old_close,
        offered_at_revision=offered,
    )
    tasks_after, _ = dates(room)
    assert all(tasks_after[pk] == day + 14 * DAY for pk, day in tasks_before.items())
    assert fresh(room).target_close_date == new_close
    assert fresh(room).version == room_version  # the room's own row did not change now

    # The same offer posted again moves nothing more.
    with pytest.raises(PlanError, match="already moved"):
        plan_replan(
            actor=Actor(user=owner),
            room=room,
            target_close_date=new_close,
            previous_close_date=old_close,
            offered_at_revision=offered,
        )
    assert dates(room)[0] == tasks_after


def test_an_offer_for_a_close_date_changed_since_is_refused(owner, room):
    before = dates(room)
    with pytest.raises(PlanError, match="changed again"):
        plan_replan(
            actor=Actor(user=owner),
            room=room,
            target_close_date=room.target_close_date + 3 * DAY,
            previous_close_date=room.target_close_date,
        )
    assert dates(room) == before


def test_a_stale_edit_of_a_moved_date_conflicts_and_other_fields_merge(owner, member, room):
    task = Task.objects.filter(room=room).first()
    plan_replan(
        actor=Actor(user=member), room=room, target_close_date=room.target_close_date + 7 * DAY
    )
    moved = Task.objects.get(pk=task.pk)
    with pytest.raises(StaleWrite) as refused:
        task_update(
            actor=Actor(user=owner),
            room=room,
            task_id=task.pk,
            base_version=task.version,
            changes={"due_date": task.due_date + DAY},
        )
    clash = refused.value.clashes["due_date"]
    assert clash["by"] == member.display_name and clash["theirs_raw"] == moved.due_date
    merged = task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=task.version,
        changes={"notes": "Asked for the sandbox"},
    )
    assert merged.notes == "Asked for the sandbox" and merged.due_date == moved.due_date


def test_live_viewers_get_the_plan_and_the_header_redrawn_once(owner_client, member, room):
    revision = fresh(room).revision
    plan_replan(
        actor=Actor(user=member), room=room, target_close_date=room.target_close_date + 7 * DAY
    )
    response = owner_client.get(
        reverse("plans:live", args=[room.pk]),
        {"rev": revision, "w": ""},
        HTTP_X_LIVE_TICKET=seller_ticket(owner_client.session["_auth_user_id"], room.pk),
    )
    assert response.status_code == 200
    assert "X-Live-Reload" not in response
    assert int(response["X-Room-Revision"]) == revision + 1
    html = response.content.decode()
    assert html.count('<section id="plan"') == 1 and html.count('id="room-header"') == 1
    new_close = (room.target_close_date).isoformat()
    assert f'name="target_close_date" value="{new_close}"' in html
    changed_by = json.loads(response["X-Live-Changed-By"])
    assert changed_by["plan"] == changed_by["room-header"] == member.display_name


# --- the seller's page ------------------------------------------------------------------


def save_close_date(client, room, day, **headers):
    """The header's close date saved: with htmx only the changed field is posted, a plain
    form post sends the whole form (here just the field and the version)."""
    data = {"target_close_date": day.isoformat(), "version": room.version}
    if headers:
        data["_field"] = "target_close_date"
    return client.post(reverse("rooms:save", args=[room.pk]), data, **headers)


def prompt_of(html):
    match = re.search(r'<div id="replan-prompt".*?</div>', html, re.S)
    return match.group(0) if match else ""


def test_the_header_offers_to_move_the_open_work_with_htmx(owner_client, room):
    old_close, new_close = room.target_close_date, room.target_close_date + 14 * DAY
    tasks_before, milestones_before = dates(room)

    saved = save_close_date(owner_client, room, new_close, **HX)
    assert saved.status_code == 200
    html = saved.content.decode()
    assert 'id="room-meta"' in html and "Saved" in html
    replan_url = reverse("plans:replan", args=[room.pk])
    loader = prompt_of(html)
    assert 'hx-swap-oob="true"' in loader and 'hx-trigger="load"' in loader
    assert f'hx-get="{replan_url}?from={old_close.isoformat()}"' in loader

    offer = owner_client.get(replan_url, {"from": old_close.isoformat()}, **HX)
    assert offer.status_code == 200
    html = offer.content.decode()
    assert "Move the plan's open work by 14 days too?" in html
    assert "17 open milestones and tasks" in html
    assert ">Move open work</button>" in html and ">Keep their dates</button>" in html
    assert f'name="previous_close_date" value="{old_close.isoformat()}"' in html
    assert f'name="target_close_date" value="{new_close.isoformat()}"' in html
    revision = re.search(r'name="revision" value="(\d+)"', html).group(1)

    moved = owner_client.post(
        replan_url,
        {
            "action": "move",
            "previous_close_date": old_close.isoformat(),
            "target_close_date": new_close.isoformat(),
            "revision": revision,
        },
        **HX,
    )
    assert moved.status_code == 200
    html = moved.content.decode()
    assert html.lstrip().startswith('<section id="plan"')
    assert '<div id="room-header" hx-swap-oob="true">' in html
    assert 'id="plan-status" class="row plan-status" hx-swap-oob="true"' in html
    assert "Moved 17 open items 14 days later, with the close date." in html
    tasks_after, milestones_after = dates(room)
    assert all(tasks_after[pk] == day + 14 * DAY for pk, day in tasks_before.items())
    assert all(milestones_after[pk] == d + 14 * DAY for pk, d in milestones_before.items())
    assert fresh(room).target_close_date == new_close

    # The offer, posted again, moves nothing more.
    again = owner_client.post(
        replan_url,
        {
            "action": "move",
            "previous_close_date": old_close.isoformat(),
            "target_close_date": new_close.isoformat(),
            "revision": revision,
        },
        **HX,
    )
    assert again.status_code == 409
    assert again["HX-Retarget"] == "#replan-prompt" and again["HX-Reswap"] == "outerHTML"
    assert "already moved" in again.content.decode()
    assert dates(room)[0] == tasks_after


def test_keep_their_dates_dismisses_the_offer(owner_client, room):
    old_close, new_close = room.target_close_date, room.target_close_date + 14 * DAY
    save_close_date(owner_client, room, new_close, **HX)
    before, entries = dates(room), ActivityEvent.objects.count()
    body = {
        "action": "keep",
        "previous_close_date": old_close.isoformat(),
        "target_close_date": new_close.isoformat(),
    }
    url = reverse("plans:replan", args=[room.pk])
    kept = owner_client.post(url, body, **HX)
    assert kept.status_code == 200
    html = kept.content.decode()
    assert html.lstrip().startswith('<div id="replan-prompt"') and "keeps its dates" in html
    assert "Move open work" not in html
    plain = owner_client.post(url, body)
    assert plain.status_code == 302 and plain["Location"] == reverse("plans:room", args=[room.pk])
    assert dates(room) == before and ActivityEvent.objects.count() == entries


def test_without_javascript_the_offer_is_a_form_and_the_move_shows_on_an_agreed_plan(
    owner_client, room
):
    buyer = StakeholderFactory(room=room, name="Maria Lopez")
    plan_agree(access=SimpleNamespace(stakeholder=buyer, room=room, actor=Actor(stakeholder=buyer)))
    done = Task.objects.get(room=room, title="Kick-off call and agree evaluation criteria")
    task_update(
        actor=Actor(stakeholder=buyer),
        room=room,
        task_id=done.pk,
        base_version=done.version,
        changes={"status": "done"},
    )
    room = fresh(room)
    old_close, new_close = room.target_close_date, room.target_close_date + 21 * DAY
    room_url = reverse("plans:room", args=[room.pk])

    saved = save_close_date(owner_client, room, new_close)
    assert saved.status_code == 302
    assert saved["Location"] == f"{room_url}?replan_from={old_close.isoformat()}"
    page = owner_client.get(saved["Location"])
    assert page.status_code == 200
    html = page.content.decode()
    prompt = prompt_of(html)
    assert "Move the plan's open work by 21 days too?" in prompt
    replan_url = reverse("plans:replan", args=[room.pk])
    assert f'<form class="msg msg-warning" method="post" action="{replan_url}"' in prompt
    assert "changed since agreed" not in html
    revision = re.search(r'name="revision" value="(\d+)"', prompt).group(1)

    moved = owner_client.post(
        reverse("plans:replan", args=[room.pk]),
        {
            "action": "move",
            "previous_close_date": old_close.isoformat(),
            "target_close_date": new_close.isoformat(),
            "revision": revision,
        },
    )
    assert moved.status_code == 302 and moved["Location"] == f"{room_url}#plan"
    page = owner_client.get(room_url)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Moved 16 open items 21 days later, with the close date." in html
    assert "Move the plan's open work" not in html
    moved_task = Task.objects.filter(room=room).exclude(pk=done.pk).first()
    row = re.search(rf'id="task-{moved_task.pk}".*?</form>', html, re.S).group(0)
    assert "changed since agreed" in row
    done_row = re.search(rf'id="task-{done.pk}".*?</form>', html, re.S).group(0)
    assert "changed since agreed" not in done_row
    done.refresh_from_db()
    assert done.due_date == done.agreed_due_date


def test_a_plan_without_open_dated_work_is_not_offered_a_move(owner, owner_client, org):
    room = RoomFactory(org=org, owner=owner)
    plan_start(actor=Actor(user=owner), room=room, template_slug="empty")
    room = fresh(room)
    old_close = room.target_close_date
    saved = save_close_date(owner_client, room, old_close + 7 * DAY, **HX)
    assert 'hx-trigger="load"' in prompt_of(saved.content.decode())
    offer = owner_client.get(
        reverse("plans:replan", args=[room.pk]), {"from": old_close.isoformat()}, **HX
    )
    assert offer.status_code == 200
    assert "Move the plan's open work" not in offer.content.decode()


def test_a_room_without_a_plan_is_not_asked(owner, owner_client, org):
    room = RoomFactory(org=org, owner=owner)
    saved = save_close_date(owner_client, room, room.target_close_date + 7 * DAY, **HX)
    assert saved.status_code == 200 and "replan-prompt" not in saved.content.decode()
    plain = save_close_date(owner_client, fresh(room), room.target_close_date + 9 * DAY)
    assert plain["Location"] == reverse("plans:room", args=[room.pk])


def test_other_header_fields_do_not_ask(owner_client, room):
    saved = owner_client.post(
        reverse("rooms:save", args=[room.pk]),
        {"_field": "goal", "goal": "Close the books in 4 days", "version": room.version},
        **HX,
    )
    assert saved.status_code == 200 and "replan-prompt" not in saved.content.decode()


def test_a_lost_deal_is_not_moved_from_the_page(owner, org, owner_client, room):
    old_close = room.target_close_date
    membership = Membership.objects.get(user=owner, org=org)
    room_close(
        actor=Actor(user=owner), membership=membership, room_id=room.pk, outcome="lost", reason="x"
    )
    Room.objects.filter(pk=room.pk).update(target_close_date=old_close + 7 * DAY)
    before = dates(room)
    body = {
        "action": "move",
        "previous_close_date": old_close.isoformat(),
        "target_close_date": (old_close + 7 * DAY).isoformat(),
    }
    url = reverse("plans:replan", args=[room.pk])
    refused = owner_client.post(url, body, **HX)
    assert refused.status_code == 409 and "read-only" in refused.content.decode()
    plain = owner_client.post(url, body, follow=True)
    assert "read-only" in plain.content.decode()
    assert dates(room) == before


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_organisations_room_is_404(outsider_client, room, method):
    old_close = room.target_close_date
    Room.objects.filter(pk=room.pk).update(target_close_date=old_close + 7 * DAY)
    before, entries = dates(room), ActivityEvent.objects.count()
    url = reverse("plans:replan", args=[room.pk])
    data = (
        {"from": old_close.isoformat()}
        if method == "get"
        else {
            "action": "move",
            "previous_close_date": old_close.isoformat(),
            "target_close_date": (old_close + 7 * DAY).isoformat(),
        }
    )
    response = getattr(outsider_client, method)(url, data, **HX)
    assert response.status_code == 404
    assert dates(room) == before and ActivityEvent.objects.count() == entries
