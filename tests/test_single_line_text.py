"""Single-line text — names of people, rooms, companies and organisations, titles of
milestones, tasks, criteria and risks, job titles, API token names — never holds a line
break or another control character, whichever door it comes through (a form, the API,
the admin, a service). And what was stored before that rule still renders: calendars and
the link email clean what they show instead of failing."""

import datetime

import icalendar
import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from accounts.models import Organization, User
from accounts.services import api_token_create, org_create
from mapsite.text import multi_line, single_line
from plans.models import Milestone, Task
from rooms.actors import Actor
from rooms.models import Room
from stakeholders import calendar, links
from stakeholders.models import Stakeholder
from tests.conftest import login
from tests.factories import (
    MilestoneFactory,
    PlanFactory,
    StakeholderFactory,
    TaskFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

PASTED = "Ann\r\nLee"
HX = {"HTTP_HX_REQUEST": "true"}


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Ann\r\nLee", "Ann Lee"),
        ("Ann \r\n  Lee", "Ann Lee"),
        ("Ann\nLee\n", "Ann Lee"),
        ("Ann\tLee", "Ann Lee"),
        ("Ann\u2028Lee\u2029", "Ann Lee"),
        ("Ann\x85Lee", "Ann Lee"),
        ("Ann\x00\x1b[31mLee\x7f\x9b", "Ann[31mLee"),
        ("  Zoë  Ångström – 王小明 😀 ", "Zoë  Ångström – 王小明 😀"),
        ("", ""),
    ],
)
def test_single_line_collapses_breaks_and_drops_other_controls(raw, clean):
    assert single_line(raw) == clean


def test_single_line_for_addresses_drops_breaks_without_a_space():
    assert single_line("ann@acme.example\r\n", space="") == "ann@acme.example"
    assert single_line(None) == ""


def test_multi_line_text_keeps_its_lines_and_drops_invisible_controls():
    assert multi_line("One\r\nTwo\n\tthree\x00\x1b\x7f") == "One\r\nTwo\n\tthree"
    assert multi_line("Zoë – 王 😀") == "Zoë – 王 😀"


# --- every door stores one line -------------------------------------------------------


@pytest.fixture
def plan_objects(room):
    plan = PlanFactory(room=room, org=room.org)
    milestone = MilestoneFactory(plan=plan)
    buyer = StakeholderFactory(room=room, email="ann@acme.example")
    task = TaskFactory(milestone=milestone, owner=buyer)
    return {"room": room, "plan": plan, "milestone": milestone, "task": task, "buyer": buyer}


def test_forms_store_pasted_names_and_titles_on_one_line(owner_client, plan_objects):
    room, task = plan_objects["room"], plan_objects["task"]
    response = owner_client.post(
        reverse("stakeholders:add", args=[room.pk]),
        {"name": PASTED, "title": "VP\nFinance", "side": "buyer", "role": "other"},
        **HX,
    )
    assert response.status_code == 200
    person = Stakeholder.objects.get(room=room, name="Ann Lee")
    assert person.title == "VP Finance"

    response = owner_client.post(
        reverse("plans:task_save", args=[room.pk, task.pk]),
        {"_field": "title", "title": "Sign\r\nthe order\x07", "version": task.version},
        **HX,
    )
    assert response.status_code == 200
    task.refresh_from_db()
    assert task.title == "Sign the order"

    response = owner_client.post(
        reverse("rooms:new"),
        {
            "name": "Big\r\ndeal",
            "buyer_company": "Acme\u2028Corp",
            "value": "1000",
            "currency": "USD",
            "stage": "discovery",
            "target_close_date": (datetime.date.today() + datetime.timedelta(days=60)).isoformat(),
            "timezone": "UTC",
            "review_duration_minutes": "30",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Room.objects.filter(name="Big deal", buyer_company="Acme Corp").exists()


def test_a_comment_keeps_its_lines_but_never_a_nul(owner_client, plan_objects):
    room, task = plan_objects["room"], plan_objects["task"]
    response = owner_client.post(
        reverse("plans:comment_add", args=[room.pk, task.pk]),
        {"body": "Signed.\nSee\x00 you"},
        **HX,
    )
    assert response.status_code == 200
    assert task.comments.get().body == "Signed.\nSee you"


def test_the_api_stores_pasted_names_and_titles_on_one_line(owner, org, plan_objects):
    from tests.api.conftest import api_client_for

    api = api_client_for(owner, org)
    room, task = plan_objects["room"], plan_objects["task"]
    created = api.post(
        "/api/v1/stakeholders/",
        {"room": str(room.pk), "name": PASTED, "title": "CFO\r\n", "email": "ann2@acme.example"},
        format="json",
    )
    assert created.status_code == 201, created.content
    assert created.json()["name"] == "Ann Lee"
    assert Stakeholder.objects.get(pk=created.json()["id"]).title == "CFO"

    patched = api.patch(
        f"/api/v1/tasks/{task.pk}/",
        {"title": "Sign\nthe\u2029order"},
        format="json",
        HTTP_IF_MATCH=f'"{task.version}"',
    )
    assert patched.status_code == 200, patched.content
    task.refresh_from_db()
    assert task.title == "Sign the order"


def test_the_admin_stores_pasted_names_on_one_line(plan_objects, org):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client = login(superuser)
    person = plan_objects["buyer"]
    url = reverse("admin:stakeholders_stakeholder_change", args=[person.pk])
    form = client.get(url).context["adminform"].form
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in form.initial.items() if v is not None}
    data.update({"name": PASTED, "title": "Head of\r\nIT"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    person.refresh_from_db()
    assert (person.name, person.title) == ("Ann Lee", "Head of IT")

    url = reverse("admin:accounts_organization_change", args=[org.pk])
    response = client.post(url, {"name": "North\r\nwind"})
    assert response.status_code == 302, response.content.decode()[:3000]
    org.refresh_from_db()
    assert org.name == "North wind"

    url = reverse("admin:plans_milestone_change", args=[plan_objects["milestone"].pk])
    form = client.get(url).context["adminform"].form
    data = {k: (v.pk if hasattr(v, "pk") else v) for k, v in form.initial.items() if v is not None}
    data.pop("depends_on", None)
    data.update({"title": "Security\nreview"})
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert Milestone.objects.get(pk=plan_objects["milestone"].pk).title == "Security review"


def test_accounts_store_names_on_one_line(owner, org):
    new_org, user = org_create(
        name="Acme\r\nSales", email="first@acme.example", password="x" * 20, user_name=PASTED
    )
    assert Organization.objects.get(pk=new_org.pk).name == "Acme Sales"
    assert User.objects.get(pk=user.pk).name == "Ann Lee"
    from accounts.models import Membership

    token, _ = api_token_create(
        membership=Membership.objects.get(user=owner, org=org), name="CRM\r\nsync"
    )
    assert token.name == "CRM sync"

    response = Client().post(
        reverse("accounts:signup"),
        {
            "name": "Bo\nBerg",
            "email": "bo@acme.example",
            "password": "a long passphrase 42",
            "org_name": "Bo's\r\nshop",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    assert User.objects.get(email="bo@acme.example").name == "Bo Berg"
    assert Organization.objects.filter(name="Bo's shop").exists()


# --- rows stored before the rule still render ---------------------------------------------


@pytest.fixture
def old_rows(plan_objects, owner):
    """Rows saved before names were cleaned: written straight into the table."""
    room, buyer = plan_objects["room"], plan_objects["buyer"]
    room.review_weekday, room.review_time = 2, datetime.time(15, 0)
    room.save()
    plan_objects["milestone"].target_date = datetime.date.today() + datetime.timedelta(days=9)
    plan_objects["milestone"].save()
    Task.objects.filter(pk=plan_objects["task"].pk).update(
        title="Send\r\nthe PO\x1b", due_date=datetime.date.today() + datetime.timedelta(days=5)
    )
    Milestone.objects.filter(pk=plan_objects["milestone"].pk).update(title="Legal\nreview")
    Stakeholder.objects.filter(pk=buyer.pk).update(
        name=PASTED, title="VP\r\nFinance", email="ann@acme.example\r\n"
    )
    StakeholderFactory(room=room, name="Cleo\u2028Champion", email="cleo@acme.example")
    Room.objects.filter(pk=room.pk).update(name="Big\r\ndeal", buyer_company="Acme\r\nCorp")
    Organization.objects.filter(pk=room.org_id).update(name="North\r\nwind")
    User.objects.filter(pk=owner.pk).update(name="Sam\r\nRep")
    buyer.refresh_from_db()
    room.refresh_from_db()
    return plan_objects


def no_breaks_in(cal):
    """Every property and parameter of a parsed calendar is one line (descriptions may
    hold the line breaks they are built with, escaped)."""
    for component in cal.walk():
        for name, value in component.property_items(recursive=False):
            if name in {"DESCRIPTION", "BEGIN", "END"}:
                continue
            text = value.decode() if isinstance(value, bytes) else str(value)
            assert "\n" not in text and "\r" not in text, (name, text)
            for param in getattr(value, "params", {}).values():
                assert "\n" not in str(param) and "\r" not in str(param), (name, param)
    return cal


def test_calendars_render_rows_saved_before_the_rule(owner_client, old_rows):
    room, buyer = old_rows["room"], old_rows["buyer"]
    response = owner_client.get(reverse("plans:review_ics", args=[room.pk]))
    assert response.status_code == 200
    cal = no_breaks_in(icalendar.Calendar.from_ical(response.content))
    (event,) = cal.walk("VEVENT")
    assert "Acme Corp" in str(event["SUMMARY"]) and "North wind" in str(event["SUMMARY"])
    cns = {str(a.params["CN"]) for a in event["ATTENDEE"]}
    assert {"Ann Lee", "Cleo Champion"} <= cns
    assert "mailto:ann@acme.example" in {str(a) for a in event["ATTENDEE"]}
    assert str(event["ORGANIZER"].params["CN"]) == "Sam Rep"

    _, token = links.link_issue(actor=Actor(), room=room, stakeholder=buyer)
    buyer_client = Client()
    buyer_client.get(reverse("buyer:open", args=[token]))
    response = buyer_client.get(reverse("buyer:review_ics"))
    assert response.status_code == 200
    no_breaks_in(icalendar.Calendar.from_ical(response.content))

    _, feed_token = calendar.feed_issue(actor=Actor(), room=room, stakeholder=buyer)
    response = Client().get(reverse("calendar_feed", args=[feed_token]))
    assert response.status_code == 200
    cal = no_breaks_in(icalendar.Calendar.from_ical(response.content))
    assert str(cal["X-WR-CALNAME"]) == "Acme Corp plan: Ann Lee"
    summaries = {str(e["SUMMARY"]) for e in cal.walk("VEVENT")}
    assert "Due: Send the PO" in summaries and "Milestone: Legal review" in summaries


def test_the_link_email_goes_out_for_rows_saved_before_the_rule(owner_client, old_rows):
    room, buyer = old_rows["room"], old_rows["buyer"]
    response = owner_client.post(
        reverse("stakeholders:link_issue", args=[room.pk, buyer.pk]),
        {"days": 30, "send_email": "on", "note": "See\r\nyou"},
    )
    assert response.status_code == 200, response.content.decode()[:2000]
    (message,) = mail.outbox
    assert message.subject == "Your link to the Acme Corp plan"
    assert message.to == ["ann@acme.example"]
    assert message.body.startswith("Hello Ann Lee,")
    (attachment,) = message.attachments
    no_breaks_in(icalendar.Calendar.from_ical(attachment.content))


def test_an_address_that_cannot_be_repaired_is_refused_not_a_crash(owner_client, old_rows):
    room, buyer = old_rows["room"], old_rows["buyer"]
    Stakeholder.objects.filter(pk=buyer.pk).update(email="ann@acme.example\r\nBcc: x@evil.example")
    response = owner_client.post(
        reverse("stakeholders:link_issue", args=[room.pk, buyer.pk]),
        {"days": 30, "send_email": "on", "note": ""},
    )
    assert response.status_code == 422
    assert "email address" in response.content.decode()
    assert mail.outbox == []


def test_a_webhook_description_is_one_line(org, admin_user):
    from accounts.models import Membership
    from webhooks.services import endpoint_create

    endpoint, _ = endpoint_create(
        membership=Membership.objects.get(user=admin_user, org=org),
        url="https://hooks.example.com/in",
        events=["task.completed"],
        description="CRM\r\nsync",
    )
    assert endpoint.description == "CRM sync"
