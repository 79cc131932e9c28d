"""Who makes a change, as a request says it: the signed-in seller (or a buyer, see
stakeholders.links.BuyerAccess.actor) and the open page it came from.

Every page that shows a live room gives itself a random window id when it loads
(static/js/live.js) and sends it with each of its writes as ``X-Live-Window`` and with
each live poll. The change is recorded with that id, so the live poll leaves it out for
that one page (which already shows it) and sends it to every other window, including
the same person's other tabs and devices. A request without the header (the API, a
plain form post, a job) names no window: every open page is told about its change.
"""

import re

from .versioning import Actor

WINDOW_HEADER = "X-Live-Window"
# What live.js sends: 128 random bits as 32 hex digits. Anything else names no window.
_WINDOW_RE = re.compile(r"^[0-9a-f]{32}$")


def clean_window(value):
    """A window id as sent by a page, or "" for anything that is not one."""
    value = value or ""
    return value if _WINDOW_RE.fullmatch(value) else ""


def request_window(request):
    return clean_window(request.headers.get(WINDOW_HEADER))


def seller_actor(request):
    """The signed-in member making this request, from the window that sent it."""
    return Actor(user=request.user, window=request_window(request))
