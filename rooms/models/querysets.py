"""The tenant-scoped querysets: the rooms a member may open, and the rows of one room
(every model whose rows belong to a room, in this app and the ones above it).
"""

from django.db import models


class RoomScopedQuerySet(models.QuerySet):
    """The queryset of every model whose rows belong to one room (and its tenant)."""

    def for_org(self, org_id):
        """Rows of one organisation."""
        return self.filter(org_id=org_id)

    def for_room(self, room):
        """Rows of one room; the organisation is matched too, so scoping needs no join."""
        return self.filter(org_id=room.org_id, room_id=room.pk)


class RoomQuerySet(models.QuerySet):
    def for_membership(self, membership):
        """Every room a member of an organisation may open: their organisation's."""
        if membership is None:
            return self.none()
        return self.filter(org_id=membership.org_id)

    def for_user(self, user_id):
        """Every room of the organisations a user belongs to (a page's ticket carries
        the user, not the organisation chosen in their session: the live poll)."""
        return self.filter(org__memberships__user_id=user_id)
