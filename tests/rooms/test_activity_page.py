"""The room's activity page: grouped by day in the room's timezone, filterable by person
and by kind, never showing another room's entries, in a fixed number of queries."""

import datetime
import re
from html import unescape

import pytest
from django.urls import reverse
from django.utils import timezone

from rooms.models import ActivityEvent, ActorKind
from tests.factories import MembershipFactory, RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def log(room, verb="created", target_type="task", label="A task", *, at=None, **kw):
    kw.setdefault("actor_kind", ActorKind.USER)
    kw.setdefault("actor_label", "Sarah Kim")
    return ActivityEvent.objects.create(
        org_id=room.org_id,
        room=room,
        verb=verb,
        target_type=target_type,
        target_id="1",
        target_label=label,
        created_at=at or timezone.now(),
        **kw,
    )


def url(room, **params):
    return reverse("rooms:activity", args=[room.pk]), params


def page(client, room, **params):
    path, params = url(room, **params)
    response = client.get(path, params)
    assert response.status_code == 200
    return response.content.decode()


def entries(html):
    return [
        unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip())
        for m in re.findall(r'<p class="activity-what">(.*?)<span class="activity-sep', html, re.S)
    ]


def headings(html):
    return re.findall(r'<h2 class="activity-day"[^>]*>(.*?)</h2>', html)


def test_entries_are_grouped_by_day_in_the_rooms_timezone(owner_client, owner, room):
    room.timezone = "Pacific/Auckland"  # already tomorrow there, most of the UTC day
    room.save()
    now = timezone.now()
    log(room, label="Today's task", at=now - datetime.timedelta(minutes=5), actor_user=owner)
    log(room, label="Yesterday's", at=now - datetime.timedelta(days=1), actor_user=owner)
    log(room, label="Older", at=now - datetime.timedelta(days=6), actor_user=owner)
    html = page(owner_client, room)
    older = (now - datetime.timedelta(days=6)).astimezone(room.tzinfo).date()
    year = "" if older.year == now.astimezone(room.tzinfo).year else f" {older.year}"
    assert headings(html) == ["Today", "Yesterday", f"{older:%a} {older.day} {older:%b}{year}"]
    assert entries(html)[0] == "Sarah Kim added the task Today's task"
    assert "5 min ago" in html
    local = (now - datetime.timedelta(minutes=5)).astimezone(room.tzinfo)
    assert f'datetime="{local.isoformat(timespec="minutes")}"' in html  # with its offset


def test_filter_by_person_and_kind(owner_client, owner, member, room):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    log(room, label="Sarah's task", actor_user=owner)
    log(room, "created", "risk", "Budget freeze", actor_user=owner)
    log(
        room,
        "agreed",
        "plan",
        "the plan",
        actor_kind=ActorKind.STAKEHOLDER,
        actor_ref=str(maria.pk),
        actor_label="Maria Lopez (Buyer)",
    )
    html = page(owner_client, room)
    assert len(entries(html)) == 3
    # The form offers the people who did something here, and the kinds.
    assert f'<option value="u{owner.pk}">Sarah Kim</option>' in html
    assert f'<option value="s{maria.pk}">Maria Lopez (buyer)</option>' in html
    assert '<option value="risk">Risks</option>' in html

    assert entries(page(owner_client, room, who=f"s{maria.pk}")) == [
        "Maria Lopez (buyer) agreed to the plan"
    ]
    assert entries(page(owner_client, room, who=f"u{owner.pk}", kind="risk")) == [
        "Sarah Kim added the risk Budget freeze"
    ]
    filtered = page(owner_client, room, kind="risk")
    assert entries(filtered) == ["Sarah Kim added the risk Budget freeze"]
    assert '<option value="risk" selected>Risks</option>' in filtered
    assert entries(page(owner_client, room, who=f"u{member.pk}")) == []


def test_pagination_keeps_the_filter(owner_client, owner, room):
    for i in range(55):
        log(room, "created", "risk", f"Risk {i}", actor_user=owner)
    log(room, label="A task", actor_user=owner)
    html = page(owner_client, room, kind="risk")
    assert len(entries(html)) == 50
    assert "kind=risk&amp;page=2" in html
    second = page(owner_client, room, kind="risk", page="2")
    assert len(entries(second)) == 5 and "A task" not in second


@pytest.mark.parametrize(
    "params",
    [
        {"who": "garbage"},
        {"who": "u99999999999999999999999"},
        {"who": "u-1"},
        {"who": "s" + "x" * 500},
        {"kind": "nonsense"},
        {"kind": "task", "who": "\x00"},
        {"page": "-3", "kind": "risk"},
    ],
)
def test_garbage_filters_show_nothing_and_never_fail(owner_client, owner, room, params):
    log(room, label="Visible only unfiltered", actor_user=owner)
    path, _ = url(room)
    response = owner_client.get(path, params)
    assert response.status_code == 200
    if "page" not in params:
        assert "Visible only unfiltered" not in response.content.decode()


def test_a_person_of_another_rooms_log_gives_nothing(owner_client, owner, org, room):
    other_room = RoomFactory(org=org, owner=owner)
    elsewhere = StakeholderFactory(room=other_room, name="Elsewhere")
    log(
        other_room,
        actor_kind=ActorKind.STAKEHOLDER,
        actor_ref=str(elsewhere.pk),
        actor_label="Elsewhere (Buyer)",
        label="Other room's task",
    )
    html = page(owner_client, room, who=f"s{elsewhere.pk}")
    assert entries(html) == [] and "Other room's task" not in html


def test_a_seller_of_another_org_gets_404_whatever_the_filter(
    outsider_client, owner, room, other_org
):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    log(room, actor_kind=ActorKind.STAKEHOLDER, actor_ref=str(maria.pk), actor_label="Maria")
    own_room = RoomFactory(org=other_org)
    path, _ = url(room)
    assert outsider_client.get(path, {"who": f"s{maria.pk}"}).status_code == 404
    assert outsider_client.get(path, {"who": f"u{owner.pk}", "kind": "task"}).status_code == 404
    # Filtering their own room by someone of the other organisation finds nothing.
    path, _ = url(own_room)
    response = outsider_client.get(path, {"who": f"s{maria.pk}"})
    assert response.status_code == 200 and entries(response.content.decode()) == []


def test_the_filter_form_works_without_javascript(owner_client, room):
    html = page(owner_client, room)
    form = re.search(r'<form class="activity-filter"[^>]*>.*?</form>', html, re.S).group(0)
    assert 'method="get"' in form
    assert '<label for="activity-who">Person</label>' in form
    assert '<label for="activity-kind">Kind</label>' in form
    assert '<button type="submit">Filter</button>' in form


def test_query_count_does_not_grow_with_entries_or_people(
    owner_client, owner, org, room, django_assert_num_queries
):
    def fill(n):
        for i in range(n):
            user = MembershipFactory(org=org).user
            log(room, label=f"Task {i}", actor_user=user, actor_label=user.display_name)
            person = StakeholderFactory(room=room)
            log(room, "commented", actor_kind=ActorKind.STAKEHOLDER, actor_ref=str(person.pk))

    path, _ = url(room)
    fill(2)
    owner_client.get(path)  # the session settles once
    with django_assert_num_queries(6) as small:
        owner_client.get(path, {"kind": "task"})
    fill(20)
    with django_assert_num_queries(len(small.captured_queries)):
        owner_client.get(path, {"kind": "task"})


def test_the_person_filter_names_someone_by_their_latest_name(owner_client, room):
    maria = StakeholderFactory(room=room, name="Maria Lopez")
    old = timezone.now() - datetime.timedelta(days=3)
    who = {"actor_kind": ActorKind.STAKEHOLDER, "actor_ref": str(maria.pk)}
    log(room, at=old, actor_label="Maria Lopez (Buyer)", **who)
    log(room, actor_label="Maria Alvarez (Buyer)", **who)  # renamed since
    html = page(owner_client, room)
    option = re.search(rf'<option value="s{maria.pk}"[^>]*>(.*?)</option>', html).group(1)
    assert option == "Maria Alvarez (buyer)"
