"""The signal columns on Room stay equal to what the rows say, whatever changes."""

import pytest
from django.core.management import call_command

from plans import services as plan_services
from plans.models import TaskStatus
from rooms.models import Room
from stakeholders.models import DecisionRole, Side
from stakeholders.services import stakeholder_delete, stakeholder_update

from .conftest import actual_columns, days, expected_columns

pytestmark = pytest.mark.django_db


def check(room):
    assert actual_columns(room) == expected_columns(room)


def test_columns_follow_every_task_and_milestone_change(build, room):
    ann = build.person("Ann Buyer")
    sam = build.person("Sam Seller", side=Side.SELLER)
    check(room)
    m1 = build.milestone("Technical validation")
    check(room)
    m2 = build.milestone("Security review", condition="")  # vague
    check(room)
    assert actual_columns(room)["vague_milestones"] == 1

    t1 = build.task(m1, "Kick-off", owner=sam, due=days(-5))
    t2 = build.task(m1, "Evaluate", owner=ann, due=days(-2))
    t3 = build.task(m2, "Questionnaire", owner=ann, due=days(4))
    check(room)
    cols = actual_columns(room)
    assert (cols["buyer_tasks_total"], cols["seller_tasks_total"]) == (2, 1)
    assert cols["next_due_task_id"] == t1.pk

    build.update(t1, status=TaskStatus.DONE)
    check(room)
    assert actual_columns(room)["next_due_task_id"] == t2.pk
    build.update(t3, status=TaskStatus.BLOCKED)
    check(room)
    assert actual_columns(room)["blocked_task_id"] == t3.pk
    build.update(t2, due_date=days(10))
    check(room)
    assert actual_columns(room)["next_due_task_id"] == t3.pk
    build.update(t2, owner=sam)  # moves to the seller side
    check(room)
    assert actual_columns(room)["seller_tasks_total"] == 2

    build.update(t2, status=TaskStatus.DONE)  # m1 complete: a buyer-led milestone done
    check(room)
    cols = actual_columns(room)
    assert cols["buyer_milestones_done"] == 1 and cols["last_milestone_completed_at"]

    m2.refresh_from_db()
    plan_services.milestone_update(
        actor=build.actor,
        room=room,
        milestone_id=m2.pk,
        base_version=m2.version,
        changes={"completion_condition": "Sign-off email from the CISO"},
    )
    check(room)
    assert actual_columns(room)["vague_milestones"] == 0

    plan_services.task_delete(actor=build.actor, room=room, task_id=t3.pk)
    check(room)
    assert actual_columns(room)["blocked_task_id"] is None
    plan_services.milestone_delete(actor=build.actor, room=room, milestone_id=m1.pk)
    check(room)
    assert actual_columns(room)["buyer_tasks_total"] == 0


def test_a_person_changing_side_moves_their_tasks_between_sides(build, room):
    ann = build.person("Ann")
    m = build.milestone()
    build.task(m, owner=ann)
    assert actual_columns(room)["buyer_tasks_total"] == 1
    ann.refresh_from_db()
    stakeholder_update(
        actor=build.actor,
        room=room,
        stakeholder_id=ann.pk,
        base_version=ann.version,
        changes={"side": Side.SELLER},
    )
    check(room)
    assert actual_columns(room)["seller_tasks_total"] == 1


def test_approver_columns_follow_people_and_their_views(build, room):
    ann = build.person("Ann")
    carl = build.person("Carl")
    check(room)
    assert actual_columns(room)["approver_count"] == 0
    build.view(carl)  # before he is known as an approver
    assert actual_columns(room)["approver_opened_at"] is None
    carl.refresh_from_db()
    stakeholder_update(
        actor=build.actor,
        room=room,
        stakeholder_id=carl.pk,
        base_version=carl.version,
        changes={"role": DecisionRole.ECONOMIC_BUYER},
    )
    check(room)  # his earlier view now counts
    assert actual_columns(room)["approver_opened_at"] is not None
    stakeholder_delete(actor=build.actor, room=room, stakeholder_id=carl.pk)
    check(room)
    assert actual_columns(room)["approver_opened_at"] is None
    dana = build.approver("Dana")
    build.view(ann)
    assert actual_columns(room)["approver_opened_at"] is None
    build.view(dana)
    check(room)
    assert actual_columns(room)["approver_opened_at"] is not None


def test_buyer_actions_mark_activity_and_contribution(build, room):
    ann = build.person("Ann")
    m = build.milestone()
    task = build.task(m, owner=ann)
    fresh = Room.objects.get(pk=room.pk)
    assert fresh.last_buyer_activity_at is None and fresh.last_buyer_contribution_at is None

    build.view(ann)  # looking is activity, not a contribution
    fresh = Room.objects.get(pk=room.pk)
    assert fresh.last_buyer_activity_at and fresh.last_buyer_contribution_at is None

    plan_services.comment_create(actor=build.actor, room=room, task=task, body="seller note")
    assert Room.objects.get(pk=room.pk).last_buyer_contribution_at is None

    build.comment(task, ann)
    assert Room.objects.get(pk=room.pk).last_buyer_contribution_at is not None


@pytest.mark.parametrize("action", ["update", "create_task", "create_milestone", "agree"])
def test_each_buyer_edit_counts_as_a_contribution(build, room, action):
    ann = build.person("Ann")
    m = build.milestone()
    task = build.task(m, owner=ann)
    access = build.access(ann)
    if action == "update":
        plan_services.buyer_task_update(
            access=access,
            task_id=task.pk,
            base_version=task.version,
            changes={"status": TaskStatus.IN_PROGRESS},
        )
    elif action == "create_task":
        plan_services.buyer_task_create(access=access, milestone_id=m.pk, title="Ours")
    elif action == "create_milestone":
        plan_services.buyer_milestone_create(access=access, title="Our board approval")
    else:
        plan_services.plan_agree(access=access)
    assert Room.objects.get(pk=room.pk).last_buyer_contribution_at is not None
    check(room)


def test_completion_changed_at_moves_only_when_done_count_moves(build, room):
    m = build.milestone()
    started = Room.objects.get(pk=room.pk).completion_changed_at
    assert started is not None  # the plan's start
    t = build.task(m, due=days(3))
    assert Room.objects.get(pk=room.pk).completion_changed_at == started
    build.update(t, due_date=days(5))
    assert Room.objects.get(pk=room.pk).completion_changed_at == started
    build.update(t, status=TaskStatus.DONE)
    moved = Room.objects.get(pk=room.pk).completion_changed_at
    assert moved > started


def test_recount_command_repairs_columns(build, room):
    m = build.milestone()
    build.task(m, due=days(-1))
    Room.objects.filter(pk=room.pk).update(buyer_tasks_total=99, next_due_task_id=None)
    call_command("recount_room_signals")
    check(room)


def test_admin_edits_keep_the_columns_right(build, room):
    from django.urls import reverse

    from tests.conftest import login
    from tests.factories import UserFactory

    m = build.milestone()
    task = build.task(m, due=days(3))
    task.refresh_from_db()
    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:plans_task_change", args=[task.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "org": room.org_id,
            "room": room.pk,
            "plan": task.plan_id,
            "milestone": task.milestone_id,
            "status": "blocked",
            "side": "buyer",
            "order": 0,
            "owner": "",
        }
    )
    data.pop("completed_at", None)
    assert client.post(url, data).status_code == 302
    check(room)
    assert actual_columns(room)["blocked_task_id"] == task.pk
