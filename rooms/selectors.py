import re

from django.db.models import Max
from django.http import Http404

from .activity_words import KINDS, person_label
from .models import ActivityEvent, ActorKind, Room, actor_key


def room_for_member(membership, room_id, *, with_plan=False):
    """The room if it belongs to the member's organisation; 404 for everyone else.
    ``with_plan``: its plan and who agreed to it are read with it (the room page)."""
    related = ["owner", "plan", "plan__agreed_by_stakeholder"] if with_plan else ["owner"]
    try:
        return Room.objects.for_membership(membership).select_related(*related).get(pk=room_id)
    except Room.DoesNotExist:
        raise Http404("No such room.") from None


# The person filter's values (ActivityEvent.actor_key): a stakeholder's id is a UUID.
_STAKEHOLDER_KEY = re.compile(r"^s([0-9a-fA-F-]{1,64})$")
_USER_KEY = re.compile(r"^u([0-9]{1,19})$")


def activity_for(room, *, who="", kind=""):
    """The room's activity, newest first, narrowed to one person (``who``, an
    ActivityEvent.actor_key) and one kind of thing (``kind``, a key of
    rooms.activity_words.KINDS). Always within the room: a value naming anyone or
    anything else, or no one at all, finds nothing."""
    events = ActivityEvent.objects.for_room(room)
    if who:
        user, stakeholder = _USER_KEY.match(who), _STAKEHOLDER_KEY.match(who)
        if who == "system":
            events = events.filter(actor_kind=ActorKind.SYSTEM)
        elif who == "u-":
            events = events.filter(actor_kind=ActorKind.USER, actor_user__isnull=True)
        elif user and 0 < int(user.group(1)) < 2**63:
            events = events.filter(actor_kind=ActorKind.USER, actor_user_id=int(user.group(1)))
        elif stakeholder:
            events = events.filter(actor_kind=ActorKind.STAKEHOLDER, actor_ref=stakeholder.group(1))
        else:
            return events.none()
    if kind:
        if kind not in KINDS:
            return events.none()
        events = events.filter(target_type__in=KINDS[kind][1])
    return events


def activity_people(room):
    """Everyone who did something in the room, as (actor key, name) for the person
    filter: the seller's team first, then the buyer's people, then mapsite itself, each
    under the name of their latest entry (people get renamed). One query: each name
    each person was logged under, newest first."""
    rows = (
        ActivityEvent.objects.for_room(room)
        .order_by()
        .values("actor_kind", "actor_user_id", "actor_ref", "actor_label")
        .annotate(last=Max("created_at"))
        .order_by("-last")
    )
    order = {ActorKind.USER: 0, ActorKind.STAKEHOLDER: 1, ActorKind.SYSTEM: 2}
    people = {}
    for row in rows:
        key = actor_key(row["actor_kind"], row["actor_user_id"], row["actor_ref"])
        if key in people:
            continue
        if row["actor_kind"] == ActorKind.STAKEHOLDER:
            name, side = person_label(row["actor_label"])
            label = f"{name} ({side})" if side else name
        elif key == "system":
            label = "mapsite (automatic)"
        elif key == "u-":
            label = "A former team member"
        else:
            label = row["actor_label"]
        people[key] = (order.get(row["actor_kind"], 3), label.casefold(), label)
    return [(key, label) for key, (_, _, label) in sorted(people.items(), key=lambda p: p[1])]
