"""The signed live tickets a room's page is given (who it is, for which room), and the
one query of a seller's poll, which reads the room's revision and proves membership at
the same time."""

from django.core import signing
from django.db import connection

from accounts.models import Membership
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


def _db(field, value):
    return field.get_db_prep_value(value, connection)


def _seller_revision(room_id, user_id):
    """The room's revision if the user is still a member of its organisation."""
    membership = Membership._meta
    sql = (
        f"SELECT r.revision FROM {Room._meta.db_table} r "
        f"JOIN {membership.db_table} m ON m.org_id = r.org_id "
        "WHERE r.id = %s AND m.user_id = %s"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [_db(Room._meta.pk, room_id), int(user_id)])
        row = cursor.fetchone()
    return row[0] if row else None
