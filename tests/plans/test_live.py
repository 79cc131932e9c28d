"""Live updates: the poll answers 204 cheaply when nothing changed, and the changed rows
(by someone else) when something did."""

import datetime
import json

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from alerts.sweep import sweep_overdue
from plans.live.tickets import buyer_ticket, seller_ticket
from plans.services import task_update
from rooms.actors import Actor
from rooms.models import ActivityEvent, Room
from stakeholders.links import link_issue, link_revoke
from tests.conftest import login
from tests.factories import MilestoneFactory, PlanFactory, StakeholderFactory, TaskFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def task(room):
    plan = PlanFactory(room=room, org=room.org)
    return TaskFactory(
        milestone=MilestoneFactory(plan=plan, track="legal"), title="Return redlines"
    )


WINDOW_A, WINDOW_B = "a" * 32, "b" * 32  # two open pages (live.js makes random ones)


def poll(client, room, rev, here="", presence=True, window=""):
    user_id = client.session["_auth_user_id"]
    params = {"rev": rev, "here": here, "w": window, **({"p": "1"} if presence else {})}
    return client.get(
        reverse("plans:live", args=[room.pk]),
        params,
        HTTP_X_LIVE_TICKET=seller_ticket(user_id, room.pk),
    )


def revision(room):
    return Room.objects.get(pk=room.pk).revision


def test_nothing_changed_is_a_204_after_one_query(
    owner_client, room, task, django_assert_max_num_queries
):
    owner_client.get(reverse("plans:room", args=[room.pk]))
    first = poll(owner_client, room, revision(room))
    assert first.status_code == 200  # "who's here" is news the first time
    rev = revision(room)
    with django_assert_max_num_queries(1):
        assert poll(owner_client, room, rev, presence=False).status_code == 204
    digest = first.content.decode().split('data-digest="')[1].split('"')[0]
    rev = revision(room)
    with django_assert_max_num_queries(1):
        response = poll(owner_client, room, rev, digest)
    assert response.status_code == 204 and response.content == b""


def test_another_persons_change_comes_back_as_that_row(owner_client, member, room, task):
    rev = revision(room)
    task_update(
        actor=Actor(user=member),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"status": "blocked"},
    )
    response = poll(owner_client, room, rev)
    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="task-{task.pk}"' in html and 'value="blocked" selected' in html
    assert int(response["X-Room-Revision"]) == revision(room)
    assert json.loads(response["X-Live-Changed-By"])[f"task-{task.pk}"] == member.display_name


def test_the_overdue_sweeps_flags_come_back_as_the_tasks_rows(
    owner_client, room, task, django_capture_on_commit_callbacks
):
    """One sweep entry names several tasks: each comes back, flagged, at the next poll
    (the sweep drops the room's cached revision when its batch commits)."""
    other = TaskFactory(milestone=task.milestone, title="Sign the DPA")
    late = room.today() - datetime.timedelta(days=4)
    planned = timezone.now() - datetime.timedelta(days=30)
    type(task).objects.filter(pk__in=[task.pk, other.pk]).update(due_date=late, created_at=planned)
    rev = revision(room)
    # (presence off: "who's here" would be news the first time)
    assert poll(owner_client, room, rev, presence=False).status_code == 204  # rev cached
    with django_capture_on_commit_callbacks(execute=True):
        sweep_overdue()
    response = poll(owner_client, room, rev)
    assert response.status_code == 200
    html = response.content.decode()
    for changed in (task, other):
        assert f'id="task-{changed.pk}"' in html, "the flagged task's row did not come back"
        row = html.split(f'id="task-{changed.pk}"')[1].split("</tr>")[0]
        assert ">flagged</span>" in row
    assert json.loads(response["X-Live-Changed-By"])[f"task-{other.pk}"] == "mapsite"


def test_a_change_skips_only_the_window_that_made_it(owner, owner_client, room, task):
    """The same seller has the room open twice: a save from window A comes back to window
    B (named as theirs, from another window), not to A, whose page shows it already; A
    only gets the plan's counts redrawn."""
    rev = revision(room)
    response = owner_client.post(
        reverse("plans:task_save", args=[room.pk, task.pk]),
        {"_field": "status", "status": "done", "version": 1},
        HTTP_X_LIVE_WINDOW=WINDOW_A,
        **HX,
    )
    assert response.status_code == 200
    assert ActivityEvent.objects.get(verb="updated").actor_window == WINDOW_A

    other = poll(owner_client, room, rev, presence=False, window=WINDOW_B).content.decode()
    assert f'id="task-{task.pk}"' in other and 'value="done" selected' in other
    by = json.loads(
        poll(owner_client, room, rev, presence=False, window=WINDOW_B)["X-Live-Changed-By"]
    )
    assert by[f"task-{task.pk}"] == "you in another window"

    same = poll(owner_client, room, rev, presence=False, window=WINDOW_A)
    assert int(same["X-Room-Revision"]) == revision(room)
    html = same.content.decode()
    assert f'id="task-{task.pk}"' not in html
    assert 'id="plan-status"' in html and "1 of 1 tasks done" in html


@pytest.mark.parametrize("sent", ["", "not-a-window", "A" * 32, "a" * 33])
def test_a_write_without_a_valid_window_reaches_every_window(owner_client, room, task, sent):
    """The API, jobs and plain form posts name no window; nor does anything malformed."""
    rev = revision(room)
    owner_client.post(
        reverse("plans:task_save", args=[room.pk, task.pk]),
        {"_field": "notes", "notes": "from somewhere", "version": 1},
        HTTP_X_LIVE_WINDOW=sent,
        **HX,
    )
    assert ActivityEvent.objects.get(verb="updated").actor_window == ""
    for window in (WINDOW_A, ""):
        html = poll(owner_client, room, rev, presence=False, window=window).content.decode()
        assert f'id="task-{task.pk}"' in html and "from somewhere" in html


def test_a_change_through_the_api_reaches_all_the_persons_windows(owner, owner_client, room, task):
    from accounts.models import Membership
    from accounts.services import api_token_create

    _, raw = api_token_create(
        membership=Membership.objects.get(user=owner, org=room.org), name="CRM"
    )
    rev = revision(room)
    response = Client().patch(
        f"/api/v1/tasks/{task.pk}/",
        {"status": "blocked"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Token {raw}",
        HTTP_IF_MATCH='"1"',
        HTTP_X_LIVE_WINDOW=WINDOW_A,  # the API does not read it
    )
    assert response.status_code == 200, response.content
    for window in (WINDOW_A, WINDOW_B):
        html = poll(owner_client, room, rev, presence=False, window=window).content.decode()
        assert f'id="task-{task.pk}"' in html and 'value="blocked" selected' in html


def test_a_buyers_change_skips_only_their_own_window(room, task):
    task.owner = StakeholderFactory(room=room, name="Mary Legal", side="buyer")
    task.save()
    buyer = buyer_client(room, task.owner)
    rev = revision(room)
    response = buyer.post(
        reverse("buyer:task_save", args=[task.pk]),
        {"_field": "notes", "notes": "counsel has it", "version": 1},
        HTTP_X_LIVE_WINDOW=WINDOW_A,
        **HX,
    )
    assert response.status_code == 200
    same = buyer.get(reverse("buyer:live"), {"rev": rev, "w": WINDOW_A}).content.decode()
    assert f'id="task-{task.pk}"' not in same and 'id="overview"' in same
    other = buyer.get(reverse("buyer:live"), {"rev": rev, "w": WINDOW_B}).content.decode()
    assert f'id="task-{task.pk}"' in other and "counsel has it" in other


def test_structural_changes_send_the_whole_plan(owner_client, member_client, room, task):
    rev = revision(room)
    member_client.post(
        reverse("plans:task_add", args=[room.pk, task.milestone_id]),
        {"title": "Sign the DPA"},
        **HX,
    )
    html = poll(owner_client, room, rev).content.decode()
    assert '<section id="plan"' in html and "Sign the DPA" in html


def test_who_is_here_lists_sellers_and_buyers(owner, owner_client, member, room, task):
    owner_client.get(reverse("plans:room", args=[room.pk]))
    member_client = login(member)
    member_client.get(reverse("plans:room", args=[room.pk]))
    poll(member_client, room, revision(room))
    html = poll(owner_client, room, revision(room)).content.decode()
    assert owner.display_name in html and member.display_name in html


def test_outsiders_and_strangers_learn_nothing(outsider_client, owner, client, room, task):
    assert poll(outsider_client, room, 0).status_code == 404
    url = reverse("plans:live", args=[room.pk])
    assert client.get(url, {"rev": 0}).status_code == 403  # no ticket
    forged = seller_ticket(owner.pk, room.pk)[:-2] + "xx"
    assert client.get(url, {"rev": 0}, HTTP_X_LIVE_TICKET=forged).status_code == 403
    # A genuine ticket without the owner's session still shows no data.
    task_update(
        actor=Actor(user=owner),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"notes": "secret"},
    )
    ticket = seller_ticket(owner.pk, room.pk)
    response = client.get(url, {"rev": 0}, HTTP_X_LIVE_TICKET=ticket)
    assert response.status_code == 403 and b"task-" not in response.content


def test_a_ticket_is_for_one_room(owner_client, owner, room, org):
    from tests.factories import RoomFactory

    other = RoomFactory(org=org, owner=owner)
    url = reverse("plans:live", args=[other.pk])
    response = owner_client.get(
        url, {"rev": 0}, HTTP_X_LIVE_TICKET=seller_ticket(owner.pk, room.pk)
    )
    assert response.status_code == 403


def test_a_bad_revision_is_a_400(owner_client, room):
    assert poll(owner_client, room, "abc").status_code == 400


def buyer_client(room, person):
    from django.test import Client

    link, token = link_issue(actor=Actor.system(), room=room, stakeholder=person)
    client = Client(HTTP_X_LIVE_TICKET=buyer_ticket(link.pk, room.pk))
    client.get(reverse("buyer:open", args=[token]))
    return client


def test_buyer_poll_shows_changes_in_scope_only(room, member, task):
    legal = StakeholderFactory(room=room, name="Mary Legal", track="legal", scope="track")
    other = TaskFactory(
        milestone=MilestoneFactory(plan=task.plan, track="security"), title="Pen test"
    )
    buyer = buyer_client(room, legal)
    rev = revision(room)
    for t in (task, other):
        task_update(
            actor=Actor(user=member),
            room=room,
            task_id=t.pk,
            base_version=1,
            changes={"notes": "moved"},
        )
    response = buyer.get(reverse("buyer:live"), {"rev": rev})
    html = response.content.decode()
    assert response.status_code == 200
    assert f'id="task-{task.pk}"' in html and "Pen test" not in html
    assert response["Cache-Control"] == "no-store"


def test_buyer_poll_after_revocation_is_410_with_refresh(room, task):
    person = StakeholderFactory(room=room)
    buyer = buyer_client(room, person)
    link = person.links.get()
    link_revoke(actor=Actor.system(), room=room, link_id=link.pk)
    response = buyer.get(reverse("buyer:live"), {"rev": 0})
    assert response.status_code == 410 and response["HX-Refresh"] == "true"


def test_buyer_nothing_changed_poll_is_one_query(room, task, django_assert_max_num_queries):
    buyer = buyer_client(room, StakeholderFactory(room=room))
    first = buyer.get(reverse("buyer:live"), {"rev": revision(room), "p": "1"})
    digest = first.content.decode().split('data-digest="')[1].split('"')[0]
    rev = revision(room)
    with django_assert_max_num_queries(1):
        response = buyer.get(reverse("buyer:live"), {"rev": rev, "here": digest, "p": "1"})
    assert response.status_code == 204


def test_warm_nothing_changed_poll_needs_no_sql(
    owner_client, room, task, django_assert_num_queries
):
    owner_client.get(reverse("plans:room", args=[room.pk]))
    rev = revision(room)
    poll(owner_client, room, rev, presence=False)  # warms the hints
    with django_assert_num_queries(0):
        assert poll(owner_client, room, rev, presence=False).status_code == 204


def test_a_change_refreshes_the_revision_hint_on_commit(
    owner_client, member, room, task, django_capture_on_commit_callbacks
):
    rev = revision(room)
    poll(owner_client, room, rev, presence=False)  # the hint now says `rev`
    with django_capture_on_commit_callbacks(execute=True):
        task_update(
            actor=Actor(user=member),
            room=room,
            task_id=task.pk,
            base_version=1,
            changes={"status": "blocked"},
        )
    response = poll(owner_client, room, rev, presence=False)
    assert response.status_code == 200 and f'id="task-{task.pk}"' in response.content.decode()


def test_revocation_reaches_a_buyer_whose_link_state_is_cached(
    room, task, django_capture_on_commit_callbacks
):
    person = StakeholderFactory(room=room)
    buyer = buyer_client(room, person)
    rev = revision(room)
    assert buyer.get(reverse("buyer:live"), {"rev": rev}).status_code == 204  # cached now
    with django_capture_on_commit_callbacks(execute=True):
        link_revoke(actor=Actor.system(), room=room, link_id=person.links.get().pk)
    response = buyer.get(reverse("buyer:live"), {"rev": rev})
    assert response.status_code == 410


def test_forms_in_live_fragments_carry_the_csrf_token(owner_client, member, room, task):
    """A plain form redrawn by a live update (the buyer's "We agree", the seller's
    problem fixes) must still post: its CSRF token is the page's, not empty."""
    person = StakeholderFactory(room=room, name="Mary Legal", side="buyer")
    buyer = buyer_client(room, person)
    buyer.get(reverse("buyer:room"))  # the page sets the CSRF cookie
    rev = revision(room)
    task_update(
        actor=Actor(user=member),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"status": "done"},
    )
    buyer_html = buyer.get(reverse("buyer:live"), {"rev": rev}).content.decode()
    seller_html = poll(owner_client, room, rev).content.decode()
    assert 'action="/b/room/agree/"' in buyer_html
    for html in (buyer_html, seller_html):
        forms = html.count("<form")
        assert forms and html.count('name="csrfmiddlewaretoken" value="') == forms
    token = buyer_html.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
    buyer.handler.enforce_csrf_checks = True  # as a browser's plain form post is checked
    response = buyer.post(reverse("buyer:agree"), {"csrfmiddlewaretoken": token})
    assert response.status_code == 302


def test_a_date_change_redraws_the_sellers_timeline(owner_client, member, room, task):
    """A moved date moves the projection: the timeline comes back with the row."""
    today = room.today()
    task.milestone.target_date = today + datetime.timedelta(days=20)
    task.milestone.save()
    task.due_date = today + datetime.timedelta(days=15)
    task.save()
    rev = revision(room)
    later = today + datetime.timedelta(days=29)
    task_update(
        actor=Actor(user=member),
        room=room,
        task_id=task.pk,
        base_version=1,
        changes={"due_date": later},
    )
    html = poll(owner_client, room, rev).content.decode()
    assert '<section id="timeline"' in html and "+9 days" in html
