"""Who makes a change: an ``Actor`` (a signed-in seller, a buyer stakeholder, or the
system), and who it is as a request says it: the signed-in seller (or a buyer, see
stakeholders.links.BuyerAccess.actor) and the open page it came from.

Every page that shows a live room gives itself a random window id when it loads
(static/js/live.js) and sends it with each of its writes as ``X-Live-Window`` and with
each live poll. The change is recorded with that id, so the live poll leaves it out for
that one page (which already shows it) and sends it to every other window, including
the same person's other tabs and devices. A request without the header (the API, a
plain form post, a job) names no window: every open page is told about its change.
"""

import re
from dataclasses import dataclass
from typing import Any

from .models import ActorKind


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a signed-in seller, a buyer stakeholder, or the system.

    ``window`` names the open page the change came from (see the module docstring): live
    updates skip a change only for that page, so the same person's other windows and
    devices see it like everyone else.
    """

    user: Any = None
    stakeholder: Any = None
    window: str = ""

    @classmethod
    def system(cls):
        return cls()

    @property
    def kind(self):
        if self.user is not None:
            return ActorKind.USER
        if self.stakeholder is not None:
            return ActorKind.STAKEHOLDER
        return ActorKind.SYSTEM

    @property
    def label(self):
        if self.user is not None:
            return self.user.display_name
        if self.stakeholder is not None:
            return str(self.stakeholder)
        return "mapsite"


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
