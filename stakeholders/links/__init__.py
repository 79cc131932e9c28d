"""Buyer links: issuing, revoking, opening, and the buyer session they start.

A link is a capability: 256 random bits from the OS's CSPRNG, shown once, stored only
as its SHA-256. Opening it starts a fresh session bound to that one link (and so to one
stakeholder and one room) and redirects to a URL without the token. Every later
request re-checks the link, so revocation and expiry bite on the very next click.

By concern: giving links out (``issuing``) and a buyer's way in, the session and
what it records (``sessions``).

Callers import from here: ``from stakeholders import links`` or
``from stakeholders.links import link_issue``."""

from .issuing import (
    link_issue,
    link_issue_and_send,
    link_refresh_request,
    link_revoke,
    link_send,
    link_url,
)
from .sessions import (
    KEPT_LINK_TTL,
    LINK_HINT_TTL,
    ROOM_VIEW_EVERY,
    SESSION_KEY,
    TOKEN_BYTES,
    TOKEN_RE,
    VISIT_GAP,
    BuyerAccess,
    LinkGone,
    LinkRow,
    active_link_row,
    buyer_session,
    buyer_session_end,
    buyer_session_start,
    engagement_for,
    forget_links,
    kept_link_key,
    link_find,
    link_hint_key,
    view_record,
)

__all__ = [
    "KEPT_LINK_TTL",
    "LINK_HINT_TTL",
    "ROOM_VIEW_EVERY",
    "SESSION_KEY",
    "TOKEN_BYTES",
    "TOKEN_RE",
    "VISIT_GAP",
    "BuyerAccess",
    "LinkGone",
    "LinkRow",
    "active_link_row",
    "buyer_session",
    "buyer_session_end",
    "buyer_session_start",
    "engagement_for",
    "forget_links",
    "kept_link_key",
    "link_find",
    "link_hint_key",
    "link_issue",
    "link_issue_and_send",
    "link_refresh_request",
    "link_revoke",
    "link_send",
    "link_url",
    "view_record",
]
