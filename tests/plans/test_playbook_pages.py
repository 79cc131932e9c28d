"""The template pages: the editor keeps what was typed and names the bad item, its
add/remove buttons save nothing, only admins and managers edit; the room's picker
lists the organisation's templates and previews the dates for the room."""

import pytest
from django.urls import reverse

from accounts.models import Membership
from plans import services
from plans.models import Milestone, Playbook
from rooms.actors import Actor
from tests.factories import MilestoneFactory, PlanFactory

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}

FORM = {
    "name": "Pilot",
    "motion": "SMB",
    "description": "",
    "m-count": "2",
    "m-0-title": "Pilot live",
    "m-0-anchor": "start",
    "m-0-offset_days": "5",
    "m-0-lead_side": "buyer",
    "m-0-track": "technical",
    "m-0-completion_condition": "Report",
    "m-0-t-count": "1",
    "m-0-t-0-title": "Run the pilot",
    "m-0-t-0-side": "buyer",
    "m-0-t-0-owner_role": "champion",
    "m-0-t-0-offset_days": "4",
    "m-0-t-0-anchor": "start",
    "m-1-title": "Signed",
    "m-1-anchor": "close",
    "m-1-offset_days": "0",
    "m-1-lead_side": "buyer",
    "m-1-track": "legal",
    "m-1-depends": "0",
    "m-1-t-count": "0",
    "action": "save",
}


def test_a_manager_creates_a_template_from_the_editor(member_client):
    response = member_client.post(reverse("playbooks:new"), FORM)
    assert response.status_code == 302
    spec = Playbook.objects.get().spec
    assert [m.title for m in spec.milestones] == ["Pilot live", "Signed"]
    assert spec.milestones[1].depends_on == (0,)
    assert spec.milestones[0].tasks[0].owner_role == "champion"
    listing = member_client.get(reverse("playbooks:list")).content.decode()
    assert "Pilot" in listing and "2 milestones · 1 task" in listing


def test_a_bad_offset_is_named_and_what_was_typed_comes_back(member_client):
    response = member_client.post(reverse("playbooks:new"), FORM | {"m-1-offset_days": "soon"})
    assert response.status_code == 422
    html = response.content.decode()
    assert "Milestone 2 “Signed”: “offset_days” must be a whole number of days." in html
    assert 'value="Run the pilot"' in html and 'value="soon"' in html
    assert not Playbook.objects.exists()


def test_add_and_remove_redraw_the_form_and_save_nothing(member_client):
    added = member_client.post(reverse("playbooks:new"), FORM | {"action": "add-task-1"})
    assert 'name="m-1-t-0-title"' in added.content.decode()
    removed = member_client.post(reverse("playbooks:new"), FORM | {"action": "remove-0"})
    html = removed.content.decode()
    assert "Run the pilot" not in html and 'value="Signed"' in html
    assert "Not saved yet" in html
    assert not Playbook.objects.exists()


def test_a_rep_sees_the_list_but_cannot_edit(owner_client, member):
    playbook = services.playbook_create(
        membership=Membership.objects.get(user=member), data={"name": "X", **_one()}
    )
    listing = owner_client.get(reverse("playbooks:list")).content.decode()
    assert "X" in listing and reverse("playbooks:edit", args=[playbook.pk]) not in listing
    assert owner_client.get(reverse("playbooks:new")).status_code == 404
    assert owner_client.get(reverse("playbooks:edit", args=[playbook.pk])).status_code == 404
    assert owner_client.post(reverse("playbooks:delete", args=[playbook.pk])).status_code == 404
    assert Playbook.objects.exists()


def test_an_edit_from_a_stale_page_is_refused_and_kept_in_the_form(member_client, member):
    playbook = services.playbook_create(
        membership=Membership.objects.get(user=member), data={"name": "X", **_one()}
    )
    url = reverse("playbooks:edit", args=[playbook.pk])
    assert member_client.post(url, FORM | {"version": "1"}).status_code == 302
    stale = member_client.post(url, FORM | {"version": "1", "name": "Mine"})
    assert stale.status_code == 409
    assert "changed by someone else" in stale.content.decode()
    assert 'value="Mine"' in stale.content.decode()


def test_delete_asks_first_and_keeps_rooms_started_from_it(member_client, member, room):
    playbook = services.playbook_create(
        membership=Membership.objects.get(user=member), data={"name": "X", **_one()}
    )
    member_client.post(reverse("plans:start", args=[room.pk]), {"playbook": str(playbook.pk)})
    confirm = member_client.get(reverse("playbooks:delete", args=[playbook.pk]))
    assert "1 room started from it keeps" in confirm.content.decode()
    member_client.post(reverse("playbooks:delete", args=[playbook.pk]))
    assert not Playbook.objects.exists()
    assert Milestone.objects.for_room(room).count() == 1
    page = member_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert "started from the X template" in page


def test_the_picker_lists_the_organisations_templates_and_previews_dates(
    member_client, member, room
):
    mine = services.playbook_create(
        membership=Membership.objects.get(user=member), data={"name": "Ours", **_one()}
    )
    page = member_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    assert reverse("plans:start_choices", args=[room.pk]) in page  # loaded by htmx
    choices = member_client.get(reverse("plans:start_choices", args=[room.pk]), **HX)
    assert "Ours" in choices.content.decode()
    preview = member_client.get(
        reverse("plans:start_preview", args=[room.pk]), {"playbook": mine.slug}, **HX
    ).content.decode()
    assert "Signed" in preview and "Ours: the dates for this room" in preview
    assert "Start the plan from Ours" in preview
    builtin = member_client.get(
        reverse("plans:start_preview", args=[room.pk]), {"template": "activation"}
    )
    assert "Invite 3 teammates" in builtin.content.decode()
    assert (
        member_client.get(
            reverse("plans:start_preview", args=[room.pk]), {"playbook": "nope"}
        ).status_code
        == 404
    )


def test_save_as_template_is_on_the_room_page_for_managers_only(member_client, owner_client, room):
    plan = PlanFactory(room=room, org=room.org)
    MilestoneFactory(plan=plan, title="Validated", target_date=room.target_close_date)
    url = reverse("plans:save_as_template", args=[room.pk])
    assert url in member_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    # Also on a page rendered for this request alone (a re-plan offer), as a link.
    page = reverse("plans:room", args=[room.pk]) + "?replan_from=2030-01-01"
    html = member_client.get(page).content.decode()
    assert f'href="{url}"' in html and "&lt;a" not in html
    assert url not in owner_client.get(reverse("plans:room", args=[room.pk])).content.decode()
    response = member_client.post(url, {"name": "Our deal"})
    playbook = Playbook.objects.get()
    assert response["Location"] == reverse("playbooks:edit", args=[playbook.pk])
    assert playbook.spec.milestones[0].title == "Validated"
    assert member_client.post(url, {"name": ""}).status_code == 422


def _one():
    return {
        "milestones": [
            {"title": "Signed", "offset_days": 0, "lead_side": "buyer", "track": "legal"}
        ]
    }


def test_a_template_named_with_an_underscore_saves_and_starts_a_plan(member, room):
    manager = Membership.objects.get(user=member, org=room.org)
    playbook = services.playbook_create(
        membership=manager, data={"name": "Q4_Enterprise", **_one()}
    )
    assert playbook.slug == "q4-enterprise"
    plan = services.plan_start(actor=Actor(user=member), room=room, playbook=playbook.slug)
    assert plan.template_name == "Q4_Enterprise"
    assert list(Milestone.objects.for_room(room).values_list("title", flat=True)) == ["Signed"]
