"""The schedule on the room pages: the seller's projected close, slip and its cause, the
critical path, slack and what each late row does; the plan's problems with their
one-click fixes; the buyer's projection in plain words, naming only what they may see."""

import datetime
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from plans.live.tickets import seller_ticket
from plans.models import Milestone, Task, TaskStatus
from plans.selectors import room_schedule
from plans.services import milestone_update, plan_changed, plan_start
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.models import Scope, Track
from tests.conftest import buyer_client
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}
KICK_OFF = "Kick-off call and agree evaluation criteria"
INTERNAL_WORDS = ("critical path", "flagged", "alerted", "slack")


def day(d):
    return f"{d.day} {d:%b}"


def room_url(room):
    return reverse("plans:room", args=[room.pk])


def fix_url(room):
    return reverse("plans:plan_fix", args=[room.pk])


def seller_page(client, room):
    response = client.get(room_url(room))
    assert response.status_code == 200
    return response.content.decode()


def status_line(html):
    match = re.search(r'<p class="projection[^"]*">(.*?)</p>', html, re.S)
    return re.sub(r"<[^>]+>", "", match.group(1)) if match else None


def problems_panel(html):
    match = re.search(r'<div id="plan-problems".*?</div>', html, re.S)
    assert match
    return match.group(0)


def task_html(html, task):
    match = re.search(rf'<div id="task-{task.pk}" class="task-wrap".*?</form>', html, re.S)
    assert match, task
    return match.group(0)


def buyer_page(client):
    response = client.get("/b/room/")
    assert response.status_code == 200
    return response.content.decode()


@pytest.fixture
def standard(room, owner):
    """A Standard plan whose first task (the kick-off call) is five days late."""
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    first = Task.objects.for_room(room).get(title=KICK_OFF)
    Task.objects.filter(pk=first.pk).update(
        due_date=room.today() - datetime.timedelta(days=5),
        created_at=timezone.now() - datetime.timedelta(days=30),
    )
    plan_changed([room.pk])
    first.refresh_from_db()
    return first


# --- the seller's room ---------------------------------------------------------------------


def test_seller_sees_the_projected_close_the_slip_and_its_cause(owner_client, room, standard):
    plan = room_schedule(room)
    assert plan.slip_days == 5 and plan.cause.item.id == standard.pk
    line = status_line(seller_page(owner_client, room))
    assert line == (
        f"Projected close {day(plan.projected_close)}, 5 days past target "
        f"({day(room.target_close_date)}), because “{KICK_OFF}” is 5 days late."
    )


def test_the_status_line_links_to_the_late_row(owner_client, room, standard):
    html = seller_page(owner_client, room)
    assert f'<a href="#task-{standard.pk}">“{KICK_OFF}”</a>' in html
    assert f'id="task-{standard.pk}"' in html


def test_a_late_row_says_what_it_pushes_next_to_its_overdue_badge(owner_client, room, standard):
    consequence = room_schedule(room).consequences()[standard.pk]
    assert consequence.pushes is not None
    row = task_html(seller_page(owner_client, room), standard)
    assert "5 days overdue" in row
    assert consequence.text in row.replace("&ldquo;", "“").replace("&rdquo;", "”")
    assert f"This pushes “{consequence.pushes.title}” by 5 days" in consequence.text


def test_the_critical_path_is_marked_in_words(owner_client, room, standard):
    plan = room_schedule(room)
    html = seller_page(owner_client, room)
    assert standard.pk in plan.critical_path
    assert ">Critical path</span>" in task_html(html, standard)
    on_path = [i for i in plan.critical_path if plan.of(i).item.kind == "milestone"]
    for pk in on_path:
        marks = re.search(rf'id="milestone-{pk}-schedule"[^>]*>(.*?)</span></span>', html, re.S)
        assert marks and "Critical path" in marks.group(1)
    # A task off the path carries no marker.
    off = Task.objects.for_room(room).exclude(pk__in=plan.critical_path).first()
    assert "Critical path" not in task_html(html, off)


def test_a_milestone_off_the_critical_path_shows_its_slack(owner_client, room, owner):
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    business = Milestone.objects.for_room(room).get(title="Business case approved")
    # The security review runs late; legal waits for it, so the business case, which
    # legal also waits for, may slip a little without moving anything.
    Task.objects.filter(room=room, title="Review security documentation").update(
        due_date=room.today() - datetime.timedelta(days=3),
        created_at=timezone.now() - datetime.timedelta(days=30),
    )
    slack = room_schedule(room).of(business.pk).slack_days
    assert slack and slack > 0
    html = seller_page(owner_client, room)
    marks = re.search(rf'id="milestone-{business.pk}-schedule".*?</span></span>', html, re.S)
    assert f"{slack} days of slack" in marks.group(0)


def test_on_time_the_line_says_on_track(owner_client, room, owner):
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    line = status_line(seller_page(owner_client, room))
    assert line.startswith(f"On track for {day(room.target_close_date)}")
    assert "Critical path" in seller_page(owner_client, room)


def test_when_everything_is_done_the_line_says_so(owner_client, room, owner):
    plan_start(actor=Actor(user=owner), room=room, template_slug="light")
    Task.objects.for_room(room).update(status=TaskStatus.DONE, completed_at=timezone.now())
    Milestone.objects.for_room(room).update(status="done", completed_at=timezone.now())
    line = status_line(seller_page(owner_client, room))
    assert line.startswith("Everything in the plan is done")


def test_no_projection_without_dated_milestones(owner_client, room):
    plan = PlanFactory(room=room, org=room.org)
    TaskFactory(milestone=MilestoneFactory(plan=plan, target_date=None), due_date=None)
    html = seller_page(owner_client, room)
    assert status_line(html) is None and 'id="plan-status"' in html


def test_a_date_change_by_someone_else_redraws_the_line_live(owner_client, member, room, standard):
    rev = Room.objects.get(pk=room.pk).revision
    last = Milestone.objects.for_room(room).get(title="Contract signed")
    later = last.target_date + datetime.timedelta(days=10)
    milestone_update(
        actor=Actor(user=member),
        room=room,
        milestone_id=last.pk,
        base_version=last.version,
        changes={"target_date": later},
    )
    response = owner_client.get(
        reverse("plans:live", args=[room.pk]),
        {"rev": rev},
        HTTP_X_LIVE_TICKET=seller_ticket(owner_client.session["_auth_user_id"], room.pk),
    )
    html = response.content.decode()
    plan = room_schedule(room)
    assert 'id="plan-status"' in html and 'id="plan-problems"' in html
    assert f"Projected close {day(plan.projected_close)}" in status_line(html)
    assert f'id="task-{standard.pk}-schedule"' in html  # every row's marks come too


# --- the plan's problems and their one-click fixes --------------------------------------------


@pytest.fixture
def misdated(room, owner):
    """A milestone dated before the milestone it depends on."""
    plan = PlanFactory(room=room, org=room.org)
    today = room.today()
    first = MilestoneFactory(
        plan=plan,
        order=0,
        title="Security review complete",
        target_date=today + datetime.timedelta(days=20),
    )
    second = MilestoneFactory(
        plan=plan,
        order=1,
        title="Legal review complete",
        target_date=today + datetime.timedelta(days=10),
    )
    second.depends_on.add(first)
    for m in (first, second):
        TaskFactory(milestone=m, due_date=m.target_date, owner=StakeholderFactory(room=room))
    return first, second


def test_the_problems_panel_lists_a_milestone_dated_before_its_dependency(
    owner_client, room, misdated
):
    first, second = misdated
    panel = problems_panel(seller_page(owner_client, room))
    assert "“Legal review complete” is dated before “Security review complete”" in panel
    assert f'href="#milestone-{second.pk}"' in panel
    assert 'name="code" value="date_before_dependency"' in panel
    assert f'name="target" value="{second.pk}"' in panel
    fix = first.target_date + datetime.timedelta(days=1)
    assert f"Move to {day(fix)}, after “Security review complete”" in panel


def test_the_fix_button_moves_the_milestone_and_the_problem_is_gone(owner_client, room, misdated):
    first, second = misdated
    response = owner_client.post(
        fix_url(room),
        {
            "code": "date_before_dependency",
            "target": second.pk,
            "version": second.version,
            "date": (first.target_date + datetime.timedelta(days=1)).isoformat(),
        },
        **HX,
    )
    assert response.status_code == 200
    second.refresh_from_db()
    assert second.target_date == first.target_date + datetime.timedelta(days=1)
    assert second.version == 2
    event = ActivityEvent.objects.filter(verb="updated").latest("created_at")
    assert event.target_id == str(second.pk)
    html = response.content.decode()
    assert html.lstrip().startswith('<section id="plan"') and 'hx-swap-oob="true"' in html
    assert f"Moved “Legal review complete” to {day(second.target_date)}." in html
    assert "date_before_dependency" not in html
    assert "date_before_dependency" not in problems_panel(seller_page(owner_client, room))


def test_a_plain_post_of_the_fix_goes_back_to_the_room(owner_client, room, misdated):
    first, second = misdated
    response = owner_client.post(
        fix_url(room),
        {"code": "date_before_dependency", "target": second.pk, "version": second.version},
    )
    assert response.status_code == 302
    assert response["Location"] == room_url(room) + f"#milestone-{second.pk}"
    second.refresh_from_db()
    assert second.target_date > first.target_date
    assert "Moved “Legal review complete”" in seller_page(owner_client, room)


def test_a_fix_that_no_longer_applies_is_refused_with_a_message(
    owner_client, room, owner, misdated
):
    first, second = misdated
    seen = second.version
    moved = first.target_date + datetime.timedelta(days=3)
    milestone_update(  # someone fixes it by hand meanwhile
        actor=Actor(user=owner),
        room=room,
        milestone_id=second.pk,
        base_version=second.version,
        changes={"target_date": moved},
    )
    data = {"code": "date_before_dependency", "target": second.pk, "version": seen}
    response = owner_client.post(fix_url(room), data, **HX)
    assert response.status_code == 409
    assert "That problem no longer applies" in response.content.decode()
    second.refresh_from_db()
    assert second.target_date == moved
    response = owner_client.post(fix_url(room), data)
    assert response.status_code == 302
    assert "That problem no longer applies" in seller_page(owner_client, room)


def test_a_fix_over_a_date_someone_just_changed_is_refused(owner_client, member, room, misdated):
    first, second = misdated
    seen = second.version
    still_early = second.target_date + datetime.timedelta(days=2)
    milestone_update(
        actor=Actor(user=member),
        room=room,
        milestone_id=second.pk,
        base_version=second.version,
        changes={"target_date": still_early},
    )
    response = owner_client.post(
        fix_url(room),
        {"code": "date_before_dependency", "target": second.pk, "version": seen},
        **HX,
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert f"Not moved: {member.display_name} changed its date meanwhile" in html
    second.refresh_from_db()
    assert second.target_date == still_early


def test_a_fix_offering_a_date_the_plan_no_longer_needs_is_refused(
    owner_client, owner, room, misdated
):
    first, second = misdated
    offered = first.target_date + datetime.timedelta(days=1)
    milestone_update(  # the dependency moves: the fix would now be another date
        actor=Actor(user=owner),
        room=room,
        milestone_id=first.pk,
        base_version=first.version,
        changes={"target_date": first.target_date + datetime.timedelta(days=4)},
    )
    response = owner_client.post(
        fix_url(room),
        {
            "code": "date_before_dependency",
            "target": second.pk,
            "version": second.version,
            "date": offered.isoformat(),
        },
        **HX,
    )
    assert response.status_code == 409 and "Check it and try again" in response.content.decode()
    assert Milestone.objects.get(pk=second.pk).target_date == second.target_date


@pytest.mark.parametrize(
    "data",
    [
        {},
        {
            "code": "date_before_dependency",
            "target": "not-an-id",
            "version": "x",
            "date": "2025-02-30",
        },
        {"code": "no_owner", "target": "00000000-0000-0000-0000-000000000000"},
    ],
)
def test_nonsense_is_refused_without_an_error_page(owner_client, room, misdated, data):
    response = owner_client.post(fix_url(room), data, **HX)
    assert response.status_code == 409


def test_outsiders_cannot_apply_a_fix(outsider_client, room, misdated):
    _, second = misdated
    response = outsider_client.post(
        fix_url(room),
        {"code": "date_before_dependency", "target": second.pk, "version": second.version},
    )
    assert response.status_code == 404
    assert Milestone.objects.get(pk=second.pk).version == second.version


def test_a_task_due_after_its_milestone_is_fixed_through_the_task(owner_client, room, misdated):
    first, _ = misdated
    task = TaskFactory(milestone=first, due_date=first.target_date + datetime.timedelta(days=2))
    panel = problems_panel(seller_page(owner_client, room))
    assert f'href="#task-{task.pk}"' in panel
    response = owner_client.post(
        fix_url(room),
        {"code": "task_after_milestone", "target": task.pk, "version": task.version},
        **HX,
    )
    assert response.status_code == 200
    assert Task.objects.get(pk=task.pk).due_date == first.target_date


def test_many_problems_fold_into_a_details(owner_client, room):
    plan = PlanFactory(room=room, org=room.org)
    for n in range(5):
        MilestoneFactory(plan=plan, order=n, completion_condition="done")
    panel = problems_panel(seller_page(owner_client, room))
    assert "<details>" in panel and "things to fix in the plan" in panel


def test_no_problems_no_panel(owner_client, room, misdated):
    first, second = misdated
    Milestone.objects.filter(pk=second.pk).update(target_date=first.target_date)
    panel = problems_panel(seller_page(owner_client, room))
    assert " hidden>" in panel and "<li>" not in panel


# --- the buyer's room ---------------------------------------------------------------------


def test_the_buyer_reads_the_projection_in_their_own_words(room, standard):
    plan = room_schedule(room)
    consequence = plan.consequences()[standard.pk]
    html = buyer_page(buyer_client(StakeholderFactory(room=room, scope=Scope.WHOLE_PLAN)))
    assert (
        f"At this pace we finish on <strong>{day(plan.projected_close)}</strong>, 5 days after "
        f"the date we agreed on ({day(room.target_close_date)}), because “{KICK_OFF}” is "
        "5 days late." in html
    )
    assert consequence.text in html
    summary = re.search(r'<section class="card b-summary".*?</section>', html, re.S).group(0)
    plan_section = html.split('<section id="plan"')[1].split('<section id="documents"')[0]
    for word in INTERNAL_WORDS:
        assert word not in summary.lower() and word not in plan_section.lower(), word


def test_a_buyer_on_time_reads_on_track(room, owner):
    plan_start(actor=Actor(user=owner), room=room, template_slug="standard")
    html = buyer_page(buyer_client(StakeholderFactory(room=room)))
    assert f"We're on track for <strong>{day(room.target_close_date)}</strong>." in html.replace(
        "&#x27;", "'"
    )


def test_a_buyer_of_another_track_sees_the_projection_but_not_the_late_task(room, standard):
    assert standard.milestone.track == Track.TECHNICAL
    legal = StakeholderFactory(room=room, scope=Scope.TRACK, track=Track.LEGAL)
    html = buyer_page(buyer_client(legal))
    plan = room_schedule(room)
    assert (
        f"At this pace we finish on <strong>{day(plan.projected_close)}</strong>, 5 days after "
        f"the date we agreed on ({day(room.target_close_date)})." in html
    )
    assert KICK_OFF not in html
    assert plan.consequences()[standard.pk].text not in html
