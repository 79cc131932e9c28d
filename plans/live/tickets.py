"""The signed live tickets a room's page is given (who it is, for which room), and the
one query of a seller's poll, which reads the room's revision and proves membership at
the same time."""

import uuid

from django.core import signing

from accounts.models import Membership
from mapsite.prepared import Prepared
from rooms.models import Room

TICKET_MAX_AGE = 24 * 3600  # a page older than this reloads to get a new ticket
_signer = signing.TimestampSigner(salt="mapsite.live")


def seller_ticket(user_id, room_id):
    return _signer.sign(f"u:{user_id}:{room_id}")


def buyer_ticket(link_id, room_id):
    return _signer.sign(f"s:{link_id}:{room_id}")


def _ticket(request):
    try:
        return _signer.unsign(request.headers.get("X-Live-Ticket", ""), max_age=TICKET_MAX_AGE)
    except signing.BadSignature:  # also expired
        return None


# The seller poll's one query: ``Room.objects.for_user``, compiled once (mapsite.prepared).
_SELLER_REVISION = Prepared(
    lambda room_id, user_id: (
        Room.objects.for_user(user_id).filter(pk=room_id).values_list("revision")
    ),
    room_id=(Room._meta.pk, uuid.UUID(int=1)),
    user_id=(Membership._meta.get_field("user"), -4242),
)


def seller_revision(room_id, user_id):
    """The room's revision if the user is still a member of its organisation."""
    row = _SELLER_REVISION.first(room_id=room_id, user_id=int(user_id))
    return row[0] if row else None
