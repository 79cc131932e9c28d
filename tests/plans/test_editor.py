"""The plan editor over HTTP: in-place saves, conflicts, bad input, structure changes."""

import datetime

import pytest
from django.urls import reverse

from plans.models import DecisionCriterion, Milestone, Plan, Risk, Task
from rooms.models import ActivityEvent
from tests.conftest import login
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    StakeholderFactory,
    TaskFactory,
)

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def plan(room):
    return PlanFactory(room=room, org=room.org)


@pytest.fixture
def milestone(plan):
    return MilestoneFactory(plan=plan, title="Security review complete")


@pytest.fixture
def task(milestone):
    return TaskFactory(milestone=milestone, title="Send SOC 2 report")


def task_url(task, name="plans:task_save"):
    return reverse(name, args=[task.room_id, task.pk])


def test_room_page_reads_like_the_one_page_map(owner_client, room, task):
    response = owner_client.get(reverse("plans:room", args=[room.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    for header in ("Step", "Action", "Owner", "Due", "Status", "Notes"):
        assert f"<span>{header}</span>" in html
    assert "Send SOC 2 report" in html and "Security review complete" in html
    assert 'data-task="1.1"' in html


def test_room_without_plan_offers_the_templates(owner_client, room):
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    for name in ("Light", "Standard", "Enterprise", "Empty plan"):
        assert name in html


def test_start_plan_in_one_click(owner_client, room):
    response = owner_client.post(reverse("plans:start", args=[room.pk]), {"template": "standard"})
    assert response.status_code == 302
    assert Plan.objects.filter(room=room, template="standard").exists()
    assert Task.objects.for_room(room).count() == 12


def test_unknown_template_is_a_message_not_a_500(owner_client, room):
    response = owner_client.post(
        reverse("plans:start", args=[room.pk]), {"template": "nope"}, follow=True
    )
    assert response.status_code == 200
    assert "Unknown template" in response.content.decode()
    assert not Plan.objects.filter(room=room).exists()


def test_inline_save_changes_only_the_field_that_changed(owner_client, task):
    response = owner_client.post(
        task_url(task),
        {"_field": "status", "status": "blocked", "title": "IGNORED", "version": 1},
        **HX,
    )
    assert response.status_code == 200
    assert b"Saved" in response.content and b'name="version" value="2"' in response.content
    task.refresh_from_db()
    assert (task.status, task.title, task.version) == ("blocked", "Send SOC 2 report", 2)
    event = ActivityEvent.objects.get(verb="updated", target_id=str(task.pk))
    assert event.changes["status"]["to"] == "Blocked"


def test_owner_must_be_a_person_of_this_room(owner_client, task):
    foreign = StakeholderFactory()  # another room, another organisation
    response = owner_client.post(
        task_url(task), {"_field": "owner", "owner": str(foreign.pk), "version": 1}, **HX
    )
    assert response.status_code == 422
    task.refresh_from_db()
    assert task.owner_id is None


def test_owner_sets_the_side(owner_client, task, room):
    seller = StakeholderFactory(room=room, side="seller", name="Tom Becker")
    owner_client.post(
        task_url(task), {"_field": "owner", "owner": str(seller.pk), "version": 1}, **HX
    )
    task.refresh_from_db()
    assert task.owner == seller and task.side == "seller"


def test_done_stamps_completion_and_reopening_clears_it(owner_client, task):
    owner_client.post(task_url(task), {"_field": "status", "status": "done", "version": 1}, **HX)
    task.refresh_from_db()
    assert task.completed_at is not None
    owner_client.post(
        task_url(task), {"_field": "status", "status": "in_progress", "version": 2}, **HX
    )
    task.refresh_from_db()
    assert task.completed_at is None


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "", "This field is required"),
        ("title", "x" * 201, "at most 200 characters"),
        ("due_date", "2026-02-30", "Enter a valid date"),
        ("due_date", "not a date", "Enter a valid date"),
        ("due_date", "0202-01-01", "between 2000 and 2100"),
        ("notes", "n" * 5001, "at most 5000 characters"),
        ("status", "finished", "Select a valid choice"),
    ],
)
def test_bad_input_gets_an_inline_error_and_saves_nothing(
    owner_client, task, field, value, message
):
    response = owner_client.post(
        task_url(task), {"_field": field, field: value, "version": 1}, **HX
    )
    assert response.status_code == 422
    assert message in response.content.decode()
    task.refresh_from_db()
    assert task.version == 1


def test_missing_or_garbage_version_is_refused_cleanly(owner_client, task):
    response = owner_client.post(
        task_url(task), {"_field": "title", "title": "x", "version": "abc"}, **HX
    )
    assert response.status_code == 422
    assert "out of date" in response.content.decode()


def test_due_after_close_is_allowed_but_warned(owner_client, task, room):
    late = room.target_close_date + datetime.timedelta(days=3)
    response = owner_client.post(
        task_url(task), {"_field": "due_date", "due_date": late.isoformat(), "version": 1}, **HX
    )
    assert response.status_code == 200
    assert "after close date" in response.content.decode()
    task.refresh_from_db()
    assert task.due_date == late


def test_same_field_conflict_answers_409_with_both_values(owner_client, member, task):
    # The member sets the status first, from the same version the owner's page shows.
    login(member).post(
        task_url(task), {"_field": "status", "status": "blocked", "version": 1}, **HX
    )
    response = owner_client.post(
        task_url(task), {"_field": "status", "status": "done", "version": 1}, **HX
    )
    assert response.status_code == 409
    assert response["HX-Retarget"] == f"#task-{task.pk}"
    html = response.content.decode()
    assert "Someone changed this" in html and member.display_name in html
    assert "<b>Blocked</b>" in html and "<b>Done</b>" in html
    assert "Keep mine" in html and "Use theirs" in html
    task.refresh_from_db()
    assert task.status == "blocked"


def test_keep_mine_after_a_conflict_wins_with_the_current_version(owner_client, member, task):
    login(member).post(
        task_url(task), {"_field": "status", "status": "blocked", "version": 1}, **HX
    )
    response = owner_client.post(
        task_url(task), {"_row": "1", "_field": "status", "status": "done", "version": 2}, **HX
    )
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in response.content.decode()  # the whole row, redrawn
    task.refresh_from_db()
    assert task.status == "done"


def test_different_field_edits_from_the_same_version_both_win(owner_client, member, task):
    login(member).post(task_url(task), {"_field": "notes", "notes": "MSA sent", "version": 1}, **HX)
    response = owner_client.post(
        task_url(task), {"_field": "status", "status": "in_progress", "version": 1}, **HX
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert (task.notes, task.status) == ("MSA sent", "in_progress")


def test_without_javascript_the_whole_row_saves_and_redirects(owner_client, task, room):
    response = owner_client.post(
        task_url(task),
        {
            "title": "Send SOC 2 report and pen-test summary",
            "owner": "",
            "due_date": "2027-01-04",
            "status": "in_progress",
            "notes": "sent",
            "evidence": "",
            "version": 1,
        },
    )
    assert response.status_code == 302
    task.refresh_from_db()
    assert task.title.endswith("pen-test summary") and task.due_date == datetime.date(2027, 1, 4)


def test_add_task_and_milestone(owner_client, room, milestone):
    response = owner_client.post(
        reverse("plans:task_add", args=[room.pk, milestone.pk]), {"title": "Return redlines"}, **HX
    )
    assert response.status_code == 200 and "Return redlines" in response.content.decode()
    task = Task.objects.get(title="Return redlines")
    assert task.due_date == milestone.target_date and task.org_id == room.org_id
    response = owner_client.post(
        reverse("plans:milestone_add", args=[room.pk]),
        {"title": "Legal review complete", "target_date": "2027-01-10", "lead_side": "buyer"},
        **HX,
    )
    assert response.status_code == 200
    assert Milestone.objects.for_room(room).count() == 2


def test_add_with_empty_title_keeps_the_plan_intact(owner_client, room, milestone):
    response = owner_client.post(
        reverse("plans:task_add", args=[room.pk, milestone.pk]), {"title": "  "}, **HX
    )
    assert response.status_code == 422
    assert "required" in response.content.decode()
    assert Task.objects.for_room(room).count() == 0


def test_reorder_and_delete_tasks(owner_client, room, milestone):
    first = TaskFactory(milestone=milestone, title="First", order=0)
    second = TaskFactory(milestone=milestone, title="Second", order=1)
    owner_client.post(task_url(second, "plans:task_move"), {"direction": "up"}, **HX)
    assert list(Task.objects.for_room(room).values_list("title", flat=True)) == ["Second", "First"]
    owner_client.post(task_url(first, "plans:task_delete"), **HX)
    assert list(Task.objects.for_room(room).values_list("title", flat=True)) == ["Second"]
    assert ActivityEvent.objects.filter(verb="deleted", target_label="First").exists()


def test_a_move_other_than_up_or_down_is_refused_not_a_500(owner_client, room, task):
    for name, target in (("plans:task_move", task), ("plans:milestone_move", task.milestone)):
        url = reverse(name, args=[room.pk, target.pk])
        response = owner_client.post(url, {"direction": "sideways"}, **HX)
        assert response.status_code == 422
        assert "Move up or down" in response.content.decode()
        response = owner_client.post(url, {})  # without JavaScript: back to the room
        assert response.status_code == 302
    assert not ActivityEvent.objects.filter(verb="moved").exists()


def test_a_title_of_control_characters_alone_is_refused_not_a_500(owner_client, room, milestone):
    response = owner_client.post(
        reverse("plans:task_add", args=[room.pk, milestone.pk]), {"title": "\x07\x1b"}, **HX
    )
    assert response.status_code == 422
    assert "control characters alone" in response.content.decode()
    assert Task.objects.for_room(room).count() == 0


def test_reorder_and_delete_milestones(owner_client, room, plan):
    a = MilestoneFactory(plan=plan, title="A", order=0)
    b = MilestoneFactory(plan=plan, title="B", order=1)
    TaskFactory(milestone=b)
    owner_client.post(
        reverse("plans:milestone_move", args=[room.pk, a.pk]), {"direction": "down"}, **HX
    )
    assert [m.title for m in Milestone.objects.for_room(room)] == ["B", "A"]
    owner_client.post(reverse("plans:milestone_delete", args=[room.pk, b.pk]), **HX)
    assert [m.title for m in Milestone.objects.for_room(room)] == ["A"]
    assert Task.objects.for_room(room).count() == 0


def test_milestone_fields_and_dependencies(owner_client, room, plan):
    a = MilestoneFactory(plan=plan, title="Technical validation", order=0)
    b = MilestoneFactory(plan=plan, title="Security review", order=1)
    url = reverse("plans:milestone_save", args=[room.pk, b.pk])
    response = owner_client.post(
        url, {"_field": "depends_on", "depends_on": [str(a.pk)], "version": 1}, **HX
    )
    assert response.status_code == 200
    assert list(b.depends_on.all()) == [a]
    response = owner_client.post(
        url,
        {
            "_field": "completion_condition",
            "completion_condition": "Sign-off email from the CISO",
            "version": 2,
        },
        **HX,
    )
    assert response.status_code == 200
    b.refresh_from_db()
    assert b.completion_condition == "Sign-off email from the CISO"
    # A cycle is refused with a message.
    response = owner_client.post(
        reverse("plans:milestone_save", args=[room.pk, a.pk]),
        {"_field": "depends_on", "depends_on": [str(b.pk)], "version": 1},
        **HX,
    )
    assert response.status_code == 422
    assert "circular" in response.content.decode()


def test_vague_milestone_is_flagged(owner_client, room, plan):
    MilestoneFactory(plan=plan, title="Security done", completion_condition="")
    html = owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "vague: no completion condition" in html


def test_criteria_and_risks(owner_client, room, plan):
    owner_client.post(
        reverse("plans:criterion_add", args=[room.pk]), {"title": "Integrates with SAP"}, **HX
    )
    criterion = DecisionCriterion.objects.get()
    response = owner_client.post(
        reverse("plans:criterion_save", args=[room.pk, criterion.pk]),
        {"_field": "notes", "notes": "Shown in the demo", "version": 1},
        **HX,
    )
    assert response.status_code == 200
    champion = StakeholderFactory(room=room, name="Maria Lopez")
    owner_client.post(
        reverse("plans:risk_add", args=[room.pk]),
        {"title": "Budget freeze", "impact": "high"},
        **HX,
    )
    risk = Risk.objects.get()
    response = owner_client.post(
        reverse("plans:risk_save", args=[room.pk, risk.pk]),
        {"_field": "owner", "owner": str(champion.pk), "version": 1},
        **HX,
    )
    assert response.status_code == 200
    risk.refresh_from_db()
    assert risk.owner == champion and risk.impact == "high"
    owner_client.post(reverse("plans:risk_delete", args=[room.pk, risk.pk]), **HX)
    owner_client.post(reverse("plans:criterion_delete", args=[room.pk, criterion.pk]), **HX)
    assert not Risk.objects.exists() and not DecisionCriterion.objects.exists()


def test_activity_log_shows_who_changed_what_from_what_to_what(owner, owner_client, task):
    owner_client.post(task_url(task), {"_field": "status", "status": "blocked", "version": 1}, **HX)
    html = owner_client.get(reverse("rooms:activity", args=[task.room_id])).content.decode()
    assert owner.display_name in html
    assert f"marked <em>{task.title}</em> blocked (was not started)" in html


def test_room_page_query_count_does_not_grow_with_the_plan(
    owner_client, room, plan, django_assert_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from rooms.revision import room_touch

    url = reverse("plans:room", args=[room.pk])
    owner_client.get(url)  # the session settles once

    def count_for(n_tasks):
        Milestone.objects.for_room(room).delete()
        people = [StakeholderFactory(room=room) for _ in range(3)]
        for m in range(5):
            milestone = MilestoneFactory(plan=plan, order=m)
            for t in range(n_tasks // 5):
                TaskFactory(milestone=milestone, owner=people[t % 3], order=t)
        room_touch(room.pk)  # what every write through a service does: a new render
        with CaptureQueriesContext(connection) as ctx:
            assert owner_client.get(url).status_code == 200
        return len(ctx.captured_queries)

    small, large = count_for(5), count_for(50)
    # The user, the membership, the room with its plan, the people with their
    # engagement and links, recent activity, milestones with their dependencies,
    # tasks, risks, comments, criteria.
    assert small == large <= 10, (small, large)
    with django_assert_num_queries(3):  # the same revision again: who, where, which room
        owner_client.get(url)
