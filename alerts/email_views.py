"""The pages behind the links of an alert email, for people without an account.

Both pages are buyer pages (the buyer's headers and CSP, no referrer, no cache). A
token that is not ours answers 400, one naming a room that is gone (or not of the
organisation it names) 404: a page, never an error. Nothing happens on GET, which mail
scanners follow: the page asks, the button (POST) does it.
"""

from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from rooms.models import Room
from stakeholders.buyer_views import protect

from . import optout


def _invalid(request, status):
    return protect(render(request, "alerts/email_link_invalid.html", status=status), quiet=True)


# A one-click unsubscribe (RFC 8058) is a POST from the mail client, without any page
# before it: it cannot carry a CSRF token. The signed token in the URL is the secret.
@csrf_exempt
@require_http_methods(["GET", "POST"])
def stop_reminders(request, token):
    try:
        room, address = optout.read_stop_token(token)
    except optout.BadToken:
        return _invalid(request, 400)
    except Room.DoesNotExist:
        return _invalid(request, 404)
    done = ""
    if request.method == "POST":
        # The page's second button turns them back on; anything else posted here (the
        # page's first button, a mail client's one-click request) stops them.
        if request.POST.get("action") == "resume":
            optout.reminders_resume(room=room, address=address)
            done = "resumed"
        else:
            optout.reminders_stop(room=room, address=address)
            done = "stopped"
    context = {
        "room": room,
        "address": address,
        "done": done,
        "stopped": optout.is_opted_out(room.pk, address),
        "org_name": room.org.name,
    }
    return protect(render(request, "alerts/email_stop.html", context), quiet=True)


@require_http_methods(["GET", "POST"])
def ask_new_link(request, token):
    try:
        room, address = optout.read_new_link_token(token)
    except optout.BadToken:
        return _invalid(request, 400)
    except Room.DoesNotExist:
        return _invalid(request, 404)
    done = request.method == "POST"
    if done:
        optout.new_link_request(room=room, address=address)
    owner = room.owner
    context = {
        "room": room,
        "done": done,
        "org_name": room.org.name,
        "ask_name": owner.display_name if owner else room.org.name,
        "ask_email": owner.email if owner else "",
    }
    return protect(render(request, "alerts/email_new_link.html", context), quiet=True)
