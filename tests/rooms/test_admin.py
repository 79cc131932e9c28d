import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from accounts.models import Role
from rooms.models import ActivityEvent
from tests.conftest import login
from tests.factories import MembershipFactory, TaskFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_admin(org):
    user = UserFactory(is_staff=True)
    MembershipFactory(org=org, user=user, role=Role.ADMIN)
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label__in=["rooms", "plans", "stakeholders"])
    )
    return user


def test_scoped_staff_see_only_their_organisations_rooms(staff_admin, room):
    foreign = TaskFactory()
    client = login(staff_admin)
    html = client.get(reverse("admin:rooms_room_changelist")).content.decode()
    assert room.name in html and foreign.room.name not in html
    response = client.get(reverse("admin:plans_task_change", args=[foreign.pk]))
    assert response.status_code == 302  # the admin's answer for an object it cannot see
    assert foreign.title not in client.get(reverse("admin:plans_task_changelist")).content.decode()


def test_superuser_edits_go_through_the_activity_log(room):
    su = UserFactory(is_staff=True, is_superuser=True)
    task = TaskFactory(milestone__plan__room=room, milestone__plan__org=room.org)
    client = login(su)
    url = reverse("admin:plans_task_change", args=[task.pk])
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data.update(
        {
            "org": room.org_id,
            "room": room.pk,
            "plan": task.plan_id,
            "milestone": task.milestone_id,
            "title": "Renamed in admin",
            "status": "not_started",
            "side": "buyer",
            "order": 0,
            "owner": "",
        }
    )
    data.pop("completed_at", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task.refresh_from_db()
    assert task.title == "Renamed in admin" and task.version == 2
    assert ActivityEvent.objects.filter(verb="updated", target_id=str(task.pk)).exists()


@pytest.mark.parametrize(
    "model",
    [
        "rooms_room",
        "rooms_activityevent",
        "plans_plan",
        "plans_milestone",
        "plans_task",
        "plans_decisioncriterion",
        "plans_risk",
        "stakeholders_stakeholder",
    ],
)
def test_every_admin_list_and_add_page_renders(model, room):
    TaskFactory(milestone__plan__room=room, milestone__plan__org=room.org)
    client = login(UserFactory(is_staff=True, is_superuser=True))
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200
    add = client.get(reverse(f"admin:{model}_add")).status_code
    assert add == (403 if model == "rooms_activityevent" else 200)


def test_admin_refuses_a_milestone_of_another_room(room):
    from tests.factories import MilestoneFactory, PlanFactory

    su = UserFactory(is_staff=True, is_superuser=True)
    task = TaskFactory(milestone__plan__room=room, milestone__plan__org=room.org)
    other_room_milestone = MilestoneFactory(plan=PlanFactory(room__org=room.org))
    client = login(su)
    url = reverse("admin:plans_task_change", args=[task.pk])
    response = client.post(
        url,
        {
            "org": room.org_id,
            "room": room.pk,
            "plan": task.plan_id,
            "milestone": other_room_milestone.pk,
            "title": task.title,
            "status": "not_started",
            "side": "buyer",
            "order": 0,
            "owner": "",
        },
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Pick one from the same room." in response.content.decode()
    task.refresh_from_db()
    assert task.milestone_id != other_room_milestone.pk


def _admin_form_data(client, url, **changes):
    form = client.get(url).context["adminform"].form
    data = {k: v for k, v in form.initial.items() if v is not None}
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in data.items()}
    data.update(changes)
    return data


def test_an_admin_edit_of_a_task_is_a_page_edit(room):
    """Marked done in the admin: stamped completed, its milestone done, and logged as
    the same change a page edit logs."""
    from plans.models import Milestone, MilestoneStatus, Task

    task = TaskFactory(milestone__plan__room=room, milestone__plan__org=room.org)
    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:plans_task_change", args=[task.pk])
    data = _admin_form_data(
        client,
        url,
        org=room.org_id,
        room=room.pk,
        plan=task.plan_id,
        milestone=task.milestone_id,
        status="done",
        owner="",
    )
    data.pop("completed_at", None)
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]
    task = Task.objects.get(pk=task.pk)
    assert task.status == "done" and task.completed_at is not None
    assert Milestone.objects.get(pk=task.milestone_id).status == MilestoneStatus.DONE
    event = ActivityEvent.objects.get(verb="updated", target_id=str(task.pk))
    assert event.changes["status"]["to"] == "Done"


def test_an_admin_delete_of_a_task_refreshes_its_milestone(room):
    from plans.models import Milestone, MilestoneStatus, TaskStatus

    done = TaskFactory(
        milestone__plan__room=room, milestone__plan__org=room.org, status=TaskStatus.DONE
    )
    open_task = TaskFactory(milestone=done.milestone)
    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:plans_task_delete", args=[open_task.pk])
    assert client.post(url, {"post": "yes"}).status_code == 302
    # The milestone's one task left is done: so is the milestone.
    assert Milestone.objects.get(pk=done.milestone_id).status == MilestoneStatus.DONE
    assert ActivityEvent.objects.filter(verb="deleted", target_id=str(open_task.pk)).exists()


def test_an_admin_stakeholder_goes_through_the_service_checks(room):
    from stakeholders.models import Stakeholder

    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:stakeholders_stakeholder_add")
    data = _admin_form_data(client, url, org=room.org_id, room=room.pk, name="Ana Ruiz")
    data.update(side="buyer", role="champion", influence="medium", track="business", scope="all")
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    person = Stakeholder.objects.get(name="Ana Ruiz")
    assert ActivityEvent.objects.filter(verb="created", target_id=str(person.pk)).exists()


def test_a_placeholder_person_is_refused_at_every_door(room):
    """The admin shows the rule on its form; the service refuses it for any caller."""
    from django.core.exceptions import ValidationError

    from rooms.actors import Actor
    from stakeholders.models import Stakeholder
    from stakeholders.services import stakeholder_create

    client = login(UserFactory(is_staff=True, is_superuser=True))
    url = reverse("admin:stakeholders_stakeholder_add")
    data = _admin_form_data(client, url, org=room.org_id, room=room.pk, name="TBD")
    data.update(side="buyer", role="champion", influence="medium", track="business", scope="all")
    response = client.post(url, data)
    assert response.status_code == 200
    assert "Name a person, not a team or a placeholder." in response.content.decode()
    with pytest.raises(ValidationError) as refused:
        stakeholder_create(actor=Actor.system(), room=room, name="Legal")
    assert "name" in refused.value.message_dict
    assert not Stakeholder.objects.filter(room=room).exists()


def test_a_go_live_before_the_close_is_refused_by_the_write_path(room):
    import datetime

    from django.core.exceptions import ValidationError

    from rooms.actors import Actor
    from rooms.models import Room
    from rooms.versioning import versioned_update

    early = room.target_close_date - datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as refused:
        versioned_update(
            actor=Actor.system(),
            room=room,
            queryset=Room.objects.all(),
            pk=room.pk,
            base_version=room.version,
            changes={"go_live_date": early},
        )
    assert refused.value.message_dict == {
        "go_live_date": ["Go-live comes after the target close date."]
    }
    room.refresh_from_db()
    assert room.go_live_date != early and room.version == 1
