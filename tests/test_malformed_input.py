"""Every route, fed malformed values: no answer is a 5xx.

The routes come from the URL conf (``django.urls.get_resolver()``), so a URL added
tomorrow is covered the day it is added: its test fails until ROUTES says how to build
it (which seeded row its ids name, who calls it, a valid post to vary) or EXCLUDED says
why it needs none.

Each route gets every malformed value (huge and negative integers, text where a number
or a date goes, invalid UUIDs and dates, control characters, 10,000 characters, empty
values, unknown choices, lists where one value goes):
- in every field name a form or view of the project reads, all at once, posted and as
  a query string;
- in one field at a time of the route's own valid post, which must be accepted (and,
  for rows edited in place, of each field its form saves, the way the page posts it:
  ``_field`` and the row's current ``version``);
- as integer ids in the path, beyond any integer column.
Each kind of request is sent with ``HX-Request`` for half of the values and without it
for the other half. Seller routes are called by the room's owner (an admin of the
organisation), buyer routes by a buyer through their personal link, and the sign-in
pages by a visitor.
"""

import datetime
import re
from dataclasses import dataclass, field

import pytest
from django import forms
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from accounts.models import Membership, Role
from accounts.services import api_token_create, invitation_create
from alerts import optout
from alerts.models import Channel, Notification
from alerts.models import Status as NotificationStatus
from documents.services import document_upload
from plans.forms import (
    BuyerTaskForm,
    CriterionForm,
    MilestoneAddForm,
    MilestoneForm,
    RiskForm,
    TaskAddForm,
    TaskForm,
)
from plans.live.tickets import buyer_ticket, seller_ticket
from plans.services import playbook_create
from rooms.actors import Actor
from rooms.forms import RoomForm
from stakeholders import calendar, links
from stakeholders.forms import LinkIssueForm, StakeholderAddForm, StakeholderForm
from stakeholders.models import Side
from tests.conftest import login
from tests.factories import (
    DecisionCriterionFactory,
    MembershipFactory,
    MilestoneFactory,
    OrganizationFactory,
    PlanFactory,
    RiskFactory,
    RoomFactory,
    StakeholderFactory,
    TaskFactory,
)
from webhooks.models import Delivery, DeliveryStatus, Endpoint

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}

MALFORMED = {
    "huge integer": str(2**64),
    "negative": "-1",
    "overflowing float": "1e999",
    "not a number": "NaN",  # non-numeric, yet a float (and a Decimal) parses it
    "invalid uuid": "00000000-0000-0000-0000-00000000000g",
    "invalid date": "2026-02-30",
    "control characters": "Ann\r\nLee\x00\x1b[2J\x7f\x85\u2028",
    "only controls": "\x07\x1b\u2029",
    "10,000 characters": "x" * 10_000,
    "empty": "",
    "unknown choice": "no-such-choice",
    "a list": ["1", "2"],
}

# Routes that need no test here, by path prefix, and why.
EXCLUDED = {
    # Django's own admin (its forms are Django's; ours save through the services and are
    # tested in tests/*/test_admin.py and tests/test_single_line_text.py).
    "admin/": "Django admin",
    # The REST API is fuzzed from its OpenAPI schema by tests/api/test_fuzz.py.
    "api/v1/": "REST API",
}


# The template editor's form: one milestone with one task (plans/playbook_editor.py).
PLAYBOOK_FORM = {
    "action": "save",
    "name": "Pilot",
    "motion": "SMB",
    "description": "x",
    "m-count": "1",
    "m-0-title": "Signed",
    "m-0-anchor": "close",
    "m-0-offset_days": "5",
    "m-0-lead_side": "buyer",
    "m-0-track": "legal",
    "m-0-completion_condition": "Countersigned",
    "m-0-t-count": "1",
    "m-0-t-0-title": "Sign",
    "m-0-t-0-side": "buyer",
    "m-0-t-0-owner_role": "economic_buyer",
    "m-0-t-0-offset_days": "0",
    "m-0-t-0-anchor": "close",
}


@dataclass(frozen=True)
class Route:
    who: str = "owner"  # "owner" (a signed-in admin who owns the room), "buyer", "visitor"
    target: str = ""  # the seeded row the url's ``pk`` names
    data: dict = field(default_factory=dict)  # a valid post, varied one field at a time
    form: type | None = None  # its fields are varied one at a time too
    inline: bool = False  # a row edited in place: posts ``_field`` and the ``version``
    token: str = ""  # the seeded token the url's ``token`` names
    method: str = "post"  # how ``data`` is sent: "get" sends it as the query string
    headers: object = None  # a function of the seeded rows giving the request's headers


ROUTES = {
    "healthz": Route(),
    "home": Route(),
    # accounts
    "accounts:signup": Route(
        who="visitor",
        data={"name": "Bo", "email": "bo@x.example", "password": "pw", "org_name": "Bo"},
    ),
    "accounts:login": Route(who="visitor", data={"username": "a@x.example", "password": "x"}),
    "accounts:logout": Route(),
    "accounts:password_reset": Route(who="visitor", data={"email": "a@x.example"}),
    "accounts:password_reset_done": Route(who="visitor"),
    "accounts:password_reset_confirm": Route(
        who="visitor", data={"new_password1": "x", "new_password2": "x"}
    ),
    "accounts:password_reset_complete": Route(who="visitor"),
    "accounts:password_change": Route(
        data={"old_password": "x", "new_password1": "y", "new_password2": "y"}
    ),
    "accounts:password_change_done": Route(),
    "accounts:members": Route(),
    "accounts:invite": Route(data={"email": "new@x.example", "role": "rep"}),
    "accounts:member_role": Route(target="member", data={"role": "manager"}),
    "accounts:member_remove": Route(target="member"),
    "accounts:invitation_revoke": Route(target="invitation"),
    "accounts:invitation_accept": Route(
        who="visitor", token="invitation", data={"name": "Al", "password": "x"}
    ),
    "accounts:api_tokens": Route(data={"name": "CRM"}),
    "accounts:api_token_revoke": Route(target="api_token"),
    "accounts:switch_org": Route(data={"org": "org", "next": "/rooms/"}),
    "accounts:no_org": Route(data={"name": "Acme"}),
    # rooms, dashboard
    "rooms:list": Route(method="get", data={"show": "all", "page": "1"}),
    "rooms:new": Route(
        form=RoomForm,
        data={
            "name": "Deal",
            "buyer_company": "Acme",
            "value": "1000",
            "currency": "USD",
            "stage": "discovery",
            "target_close_date": lambda o: o["room"].target_close_date,
            "timezone": "UTC",
            "review_duration_minutes": "30",
        },
    ),
    "rooms:save": Route(target="room", form=RoomForm, inline=True),
    "rooms:activity": Route(method="get", data={"page": "1"}),
    "dashboard:index": Route(method="get", data={"page": "1", "sort": "close"}),
    "dashboard:export": Route(),
    # the room page and its plan
    "plans:room": Route(method="get", data={"part": "plan", "replan_from": "2026-01-01"}),
    "plans:live": Route(
        method="get",
        data={"rev": "1", "w": "abc", "p": "1"},
        headers=lambda o: {"X-Live-Ticket": seller_ticket(o["owner"].pk, o["room"].pk)},
    ),
    "plans:start": Route(data={"template": "light"}),
    "plans:start_choices": Route(method="get"),
    "plans:start_preview": Route(method="get", data={"template": "light", "playbook": "playbook"}),
    "plans:save_as_template": Route(
        data={"name": "From the room", "motion": "SMB", "description": "x"}
    ),
    # the organisation's plan templates
    "playbooks:list": Route(method="get"),
    "playbooks:new": Route(data=PLAYBOOK_FORM),
    "playbooks:edit": Route(target="playbook", data=PLAYBOOK_FORM | {"version": "1"}),
    "playbooks:delete": Route(target="playbook"),
    "plans:replan": Route(
        data={
            "action": "move",
            "previous_close_date": lambda o: o["room"].target_close_date,
            "target_close_date": lambda o: o["room"].target_close_date,
            "revision": "1",
            "from": lambda o: o["room"].target_close_date,
        }
    ),
    "plans:outcome": Route(data={"action": "lost", "reason": "Budget"}),
    "plans:pdf": Route(),
    "plans:review_ics": Route(),
    "plans:handover": Route(data={"cs_owner": "owner"}),
    "plans:milestone_add": Route(
        form=MilestoneAddForm, data={"title": "New", "lead_side": "buyer"}
    ),
    "plans:milestone_save": Route(target="milestone", form=MilestoneForm, inline=True),
    "plans:milestone_delete": Route(target="milestone"),
    "plans:milestone_move": Route(target="milestone", data={"direction": "down"}),
    "plans:task_add": Route(target="milestone", form=TaskAddForm, data={"title": "New"}),
    "plans:task_save": Route(target="task", form=TaskForm, inline=True),
    "plans:task_delete": Route(target="task"),
    "plans:task_move": Route(target="task", data={"direction": "down"}),
    "plans:comment_add": Route(target="task", data={"body": "Hello"}),
    "plans:plan_fix": Route(data={"code": "in_past", "target": "task", "version": "1"}),
    "plans:criterion_add": Route(form=CriterionForm, data={"title": "New"}),
    "plans:criterion_save": Route(target="criterion", form=CriterionForm, inline=True),
    "plans:criterion_delete": Route(target="criterion"),
    "plans:risk_add": Route(form=RiskForm, data={"title": "New", "impact": "low"}),
    "plans:risk_save": Route(target="risk", form=RiskForm, inline=True),
    "plans:risk_delete": Route(target="risk"),
    # people and their access
    "stakeholders:add": Route(
        form=StakeholderAddForm, data={"name": "Ann Lee", "side": "buyer", "role": "other"}
    ),
    "stakeholders:save": Route(target="stakeholder", form=StakeholderForm, inline=True),
    "stakeholders:delete": Route(target="stakeholder"),
    "stakeholders:access": Route(target="stakeholder"),
    "stakeholders:scope": Route(
        target="stakeholder", data={"scope": "track", "track": "legal", "version": "1"}
    ),
    "stakeholders:link_issue": Route(
        target="stakeholder", form=LinkIssueForm, data={"days": "30", "send_email": "on"}
    ),
    "stakeholders:link_revoke": Route(target="stakeholder"),
    "stakeholders:feed_issue": Route(target="stakeholder"),
    "stakeholders:feed_revoke": Route(target="stakeholder"),
    "room_alerts": Route(),
    # documents
    "documents:section": Route(),
    "documents:upload": Route(data={"milestone": "milestone"}),
    "documents:download": Route(target="document"),
    "documents:delete": Route(target="document"),
    "buyer_documents:section": Route(who="buyer"),
    "buyer_documents:upload": Route(who="buyer", data={"task": "task"}),
    "buyer_documents:download": Route(who="buyer", target="document"),
    # the weekly check-in
    "checkins:page": Route(method="get", data={"since": "1"}),
    "checkins:mark": Route(
        target="task", data={"mark": "at_risk", "note": "Waiting", "version": "1", "since": "1"}
    ),
    "checkins:finish": Route(
        data={"attendees": "stakeholder", "notes": "x", "decisions": "y", "since": "1"}
    ),
    "buyer_checkins:page": Route(who="buyer"),
    # the buyer's room
    "buyer:room": Route(who="buyer"),
    "buyer:live": Route(
        method="get",
        who="buyer",
        data={"rev": "1", "w": "abc", "p": "1"},
        headers=lambda o: {"X-Live-Ticket": buyer_ticket(o["link"].pk, o["room"].pk)},
    ),
    "buyer:task_save": Route(who="buyer", target="task", form=BuyerTaskForm, inline=True),
    "buyer:comment_add": Route(who="buyer", target="task", data={"body": "Hello"}),
    "buyer:task_viewed": Route(who="buyer", target="task"),
    "buyer:task_edit": Route(method="get", who="buyer", target="task"),
    "buyer:task_add": Route(who="buyer", target="milestone", data={"title": "New"}),
    "buyer:milestone_add": Route(who="buyer", data={"title": "New", "target_date": ""}),
    "buyer:agree": Route(who="buyer"),
    "buyer:pdf": Route(who="buyer"),
    "buyer:review_ics": Route(who="buyer"),
    "buyer:feed_issue": Route(who="buyer"),
    "buyer:leave": Route(who="buyer"),
    "buyer:open": Route(who="visitor", token="link", data={"email": "ann@acme.example"}),
    "calendar_feed": Route(who="visitor", token="feed"),
    "email_stop": Route(who="visitor", token="stop"),
    "email_new_link": Route(who="visitor", token="new_link"),
    # settings
    "alerts:settings": Route(data={"slack_webhook_url": "", "sender_email": "a@x.example"}),
    "alerts:test": Route(),
    "alerts:retry": Route(target="notification"),
    "webhooks:settings": Route(
        data={"url": "https://hooks.example.com/in", "events": "task.completed"}
    ),
    "webhooks:delete": Route(target="endpoint"),
    "webhooks:resend": Route(target="delivery"),
}

# Names views read straight from the request (request.POST / request.GET), beside the
# fields of the project's forms (collected below).
VIEW_PARAMS = {
    *("_field", "_row", "action", "body", "code", "cs_owner", "date", "description"),
    *("direction", "email", "events", "from", "here", "milestone", "name", "next", "org"),
    *("p", "page", "part", "previous_close_date", "reason", "replan_from", "rev"),
    *("revision", "show", "target", "target_close_date", "task", "template", "url"),
    *("username", "version", "w", "file", "sort", "q", "owner", "stage", "status"),
}
APPS = (
    "accounts",
    "alerts",
    "dashboard",
    "documents",
    "plans",
    "rooms",
    "stakeholders",
    "webhooks",
)


def _form_classes(base=forms.BaseForm):
    for cls in base.__subclasses__():
        yield cls
        yield from _form_classes(cls)


def field_names():
    """Every field name a form of the project declares, and those views read."""
    names = set(VIEW_PARAMS)
    for cls in _form_classes():
        if cls.__module__.split(".")[0] in APPS:
            names |= set(getattr(cls, "base_fields", {}))
    return sorted(names)


def walk(resolver=None, prefix="", namespace=""):
    """(route as written, url name) for every route of the URL conf."""
    resolver = resolver or get_resolver()
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            inner = ":".join(n for n in (namespace, entry.namespace or "") if n)
            yield from walk(entry, route, inner)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield route, name


def routes():
    found = []
    for route, name in walk():
        if any(route.startswith(prefix) for prefix in EXCLUDED):
            continue
        found.append(pytest.param(route, name, id=name or route))
    return found


def test_every_listed_route_exists():
    names = {name for _, name in walk()}
    assert set(ROUTES) <= names, f"ROUTES names routes that are gone: {set(ROUTES) - names}"


@pytest.fixture(autouse=True)
def _quiet_refusals(monkeypatch):
    """Thousands of 4xx answers are each logged as a warning; only errors are kept."""
    import logging

    monkeypatch.setattr(logging.getLogger("django.request"), "level", logging.ERROR)


@pytest.fixture(autouse=True)
def _plain_template_rendering(monkeypatch):
    """Templates render as in production: without the test runner's instrumentation,
    which records a copy of every context for ``response.context`` (not read here) and
    would make this test several times slower."""
    from django.template.base import Template

    monkeypatch.setattr(Template, "_render", lambda self, context: self.nodelist.render(context))


# --- the seeded organisation ------------------------------------------------------------


@pytest.fixture
def seeded(settings):
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    org = OrganizationFactory(name="Northwind")
    owner = MembershipFactory(org=org, role=Role.ADMIN).user
    membership = Membership.objects.get(user=owner, org=org)
    member = MembershipFactory(org=org, role=Role.REP)
    room = RoomFactory(org=org, owner=owner, review_weekday=1, review_time=datetime.time(10))
    plan = PlanFactory(room=room, org=org)
    today = timezone.now().date()
    milestone = MilestoneFactory(plan=plan, target_date=today + datetime.timedelta(days=20))
    buyer = StakeholderFactory(room=room, name="Ann Lee", email="ann@acme.example")
    task = TaskFactory(
        milestone=milestone, owner=buyer, side=Side.BUYER, due_date=today - datetime.timedelta(2)
    )
    link, link_token = links.link_issue(actor=Actor(), room=room, stakeholder=buyer)
    feed, feed_token = calendar.feed_issue(actor=Actor(), room=room, stakeholder=buyer)
    invitation, invitation_token = invitation_create(
        org=org, invited_by=owner, email="new@acme.example", role=Role.REP
    )
    endpoint = Endpoint.objects.create(
        org=org, url="https://hooks.example.com/in", events=["task.completed"], secret="s"
    )
    objects = {
        "org": org,
        "owner": owner,
        "room": room,
        "milestone": milestone,
        "task": task,
        "criterion": DecisionCriterionFactory(plan=plan),
        "risk": RiskFactory(plan=plan),
        "stakeholder": buyer,
        "link": link,
        "feed": feed,
        "document": document_upload(
            actor=Actor(), room=room, upload=SimpleUploadedFile("notes.txt", b"notes")
        ),
        "member": member,
        "invitation": invitation,
        "api_token": api_token_create(membership=membership, name="CRM")[0],
        "notification": Notification.objects.create(
            org=org,
            channel=Channel.EMAIL,
            recipient="ann@acme.example",
            status=NotificationStatus.FAILED,
        ),
        "endpoint": endpoint,
        "playbook": playbook_create(
            membership=membership,
            data={
                "name": "Ours",
                "milestones": [
                    {"title": "Signed", "offset_days": 0, "lead_side": "buyer", "track": "legal"}
                ],
            },
        ),
        "delivery": Delivery.objects.create(
            org=org,
            endpoint=endpoint,
            event_id="evt_1",
            event_type="task.completed",
            event_time=timezone.now(),
            status=DeliveryStatus.FAILED,
        ),
    }
    tokens = {
        "link": link_token,
        "feed": feed_token,
        "invitation": invitation_token,
        "stop": optout.stop_token(room, buyer.email),
        "new_link": optout.new_link_token(room, buyer.email),
    }
    return objects, tokens


def client_for(who, objects, tokens):
    if who == "owner":
        return login(objects["owner"])
    client = Client()
    if who == "buyer":
        assert client.get(reverse("buyer:open", args=[tokens["link"]])).status_code == 303
    return client


def url_for(route, name, spec, objects, tokens, *, huge_ids=False):
    """The route's URL with real ids (or, with ``huge_ids``, integer ids beyond any
    integer column); fails when an argument cannot be built."""
    kwargs = {}
    for converter, arg in re.findall(r"<(?:(\w+):)?(\w+)>", route):
        if huge_ids and converter == "int":
            kwargs[arg] = 2**64
        elif arg == "room_id":
            kwargs[arg] = objects["room"].pk
        elif arg == "pk" and spec.target:
            kwargs[arg] = objects[spec.target].pk
        elif arg in ("link_id", "feed_id"):
            kwargs[arg] = objects[arg.removesuffix("_id")].pk
        elif arg == "token" and spec.token:
            kwargs[arg] = tokens[spec.token]
        elif arg == "token" and name == "accounts:password_reset_confirm":
            kwargs[arg] = default_token_generator.make_token(objects["owner"])
        elif arg == "uidb64":
            kwargs[arg] = urlsafe_base64_encode(force_bytes(objects["owner"].pk))
        else:
            pytest.fail(f"{name}: cannot build <{arg}>; say which row it names in ROUTES")
    return reverse(name, kwargs=kwargs)


def resolved(value, objects):
    """A valid post's value: as written, the id of the seeded row it names, or what a
    function of the seeded rows gives."""
    if callable(value):
        return str(value(objects))
    if isinstance(value, str) and value in objects:
        return str(objects[value].pk)
    return value


def current_version(spec, objects):
    row = objects[spec.target]
    return str(type(row).objects.filter(pk=row.pk).values_list("version", flat=True).first())


def refused_by_form(form, name, value):
    """Whether the route's form refuses ``value`` in field ``name`` on its own. Then the
    view answers with the form's errors and calls no service: posting every field with
    the value (above) already renders that, so the one-field post is skipped (rendering
    a page with a form is what makes this test slow)."""
    field = form.base_fields.get(name) if form else None
    if field is None or isinstance(value, list):
        return False
    try:
        field.clean(value)
    except ValidationError:
        return True
    except Exception:  # noqa: BLE001 - let the request itself tell
        return False
    return False


@pytest.mark.parametrize(("route", "name"), routes())
def test_malformed_values_never_answer_5xx(seeded, route, name):
    objects, tokens = seeded
    if name not in ROUTES:
        pytest.fail(f"{route}: add it to ROUTES (how to build it) or to EXCLUDED (why not)")
    spec = ROUTES[name]
    url = url_for(route, name, spec, objects, tokens)
    client = client_for(spec.who, objects, tokens)
    names = field_names()
    valid = {k: resolved(v, objects) for k, v in spec.data.items()}
    varied = list(dict.fromkeys([*valid, *(spec.form.base_fields if spec.form else ())]))
    headers = spec.headers(objects) if spec.headers else {}
    failures = []

    def send(method, data, hx):
        try:
            call = getattr(client, method)
            status = call(url, data, headers=headers, **(HX if hx else {})).status_code
        except Exception as exc:  # noqa: BLE001 - collected, so one run lists them all
            status = f"{type(exc).__name__}: {str(exc)[:200]}"
        if not isinstance(status, int) or status >= 500:
            shown = {k: (v[:20] if isinstance(v, str) else v) for k, v in data.items()}
            if len(shown) > 8:
                shown = f"every field = {next(iter(shown.values()))!r}"
            failures.append(f"{method.upper()} hx={hx} {shown} -> {status}")

    if valid:
        # The valid post is accepted, so the posts varying it reach the services.
        response = getattr(client, spec.method)(url, valid, headers=headers)
        assert response.status_code < 400, f"{name}: its valid post answers {response}"
    for index, value in enumerate(MALFORMED.values()):
        # Every kind of request goes with and without htmx, alternately (each with half
        # of the values: rendering pages is what makes this test slow).
        hx = bool(index % 2)
        everything = dict.fromkeys(names, value)
        send("post", everything, hx)
        send("get", everything, not hx)
        for key in varied:
            if refused_by_form(spec.form, key, value):
                continue
            data = valid | {key: value}
            if spec.inline:
                data |= {"_field": key, "version": current_version(spec, objects)}
            send(spec.method, data, hx)
        if spec.inline:
            send("post", {"_field": varied[0], varied[0]: "x", "version": value}, hx)
    if "<int:" in route:  # ids beyond any integer column
        url = url_for(route, name, spec, objects, tokens, huge_ids=True)
        send("post", {}, False)
        send("get", {}, True)
    assert not failures, f"{name}: {len(failures)} answers were 5xx:\n" + "\n".join(failures)
