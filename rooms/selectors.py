from django.http import Http404

from .models import Room


def room_for_member(membership, room_id):
    """The room if it belongs to the member's organisation; 404 for everyone else."""
    try:
        return Room.objects.for_membership(membership).select_related("owner").get(pk=room_id)
    except Room.DoesNotExist:
        raise Http404("No such room.") from None
