"""A room's alerts: every notification about its overdue tasks, sent or not, and why."""

from django.core.paginator import Paginator
from django.shortcuts import render
from django.views.decorators.http import require_GET

from accounts.membership import member_required
from rooms.selectors import room_for_member

from .models import Notification
from .optout import opt_outs_for


@require_GET
@member_required
def room_alerts(request, room_id):
    room = room_for_member(request.membership, room_id)
    notifications = Notification.objects.filter(org_id=room.org_id, task__room=room).select_related(
        "task"
    )
    page = Paginator(notifications, 50).get_page(request.GET.get("page"))
    context = {"room": room, "page": page, "opt_outs": opt_outs_for(room)}
    return render(request, "alerts/room_alerts.html", context)
