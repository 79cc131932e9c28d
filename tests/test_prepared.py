"""Hot paths read with SQL compiled once from the pages' own queryset methods
(mapsite.prepared): the same answers as the ORM, for every value."""

import datetime
import uuid

import pytest
from django.utils import timezone

from accounts.models import Membership
from mapsite.prepared import Prepared
from rooms.actors import Actor
from rooms.models import Room
from stakeholders import links
from stakeholders.models import AccessLink
from tests.factories import RoomFactory, StakeholderFactory

pytestmark = pytest.mark.django_db


def test_a_seller_poll_reads_the_revision_only_through_a_membership(room, owner, outsider):
    assert revision_for(room, owner) == room.revision
    assert revision_for(room, outsider) is None  # another organisation's member
    other = RoomFactory()  # another organisation's room, asked by this room's owner
    assert revision_for(other, owner) is None
    Membership.objects.filter(user=owner).delete()
    assert revision_for(room, owner) is None


def revision_for(room, user):
    from plans.live.tickets import seller_revision

    return seller_revision(room.pk, user.pk)


def test_a_link_row_is_what_the_orm_calls_active(room):
    person = StakeholderFactory(room=room, name="Maria Lopez")
    link, _ = links.link_issue(actor=Actor(), room=room, stakeholder=person)
    row = links.active_link_row(link.pk)
    assert (row.room_id, row.stakeholder_id, row.name) == (room.pk, person.pk, "Maria Lopez")
    assert AccessLink.objects.active().filter(pk=link.pk).exists()
    AccessLink.objects.filter(pk=link.pk).update(expires_at=timezone.now())
    assert links.active_link_row(link.pk) is None
    assert not AccessLink.objects.active().filter(pk=link.pk).exists()
    AccessLink.objects.filter(pk=link.pk).update(
        expires_at=timezone.now() + datetime.timedelta(days=1), revoked_at=timezone.now()
    )
    assert links.active_link_row(link.pk) is None
    assert links.active_link_row(uuid.uuid4()) is None


def test_a_slot_that_is_not_in_the_query_is_refused():
    prepared = Prepared(
        lambda pk: Room.objects.filter(name="x").values_list("revision"),
        pk=(Room._meta.pk, uuid.UUID(int=7)),
    )
    with pytest.raises(ValueError, match="slot 'pk' is found 0 times"):
        prepared.first(pk=uuid.uuid4())
