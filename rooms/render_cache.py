"""A room page's body, rendered once and served to everyone who would see the same HTML.

A room page is mostly the same for every viewer of one audience: every seller of the
organisation sees the same plan editor, and a buyer sees what their scope shows them.
The page's body (everything but the frame: the top bar, the messages, the live-update
ticket) is rendered once per ``(room, audience, revision)`` and kept in the
``fragments`` cache (a folder of its own on the embedded default, Redis in
production); the next viewer of the same audience gets it with their own CSRF token
put in.

When a body is served again, and when it is not:

- **The room changed** (any write through a service moves ``room.revision``): the
  revision is part of the key, so the next view renders afresh.
- **Something was logged without a revision** (a link issued or revoked, a buyer's
  first look, reminders stopped: ``rooms.services.activity_record``): the room's
  generation in the cache moves on commit (``forget``), and every body of the room,
  for every audience, is stale.
- **Time passed**: a body is served for ``FRESH_FOR`` seconds, then rendered again.
  That bounds what no revision tracks (relative times like "seen 3 min ago", today's
  date behind "due tomorrow", a teammate's new name, the team list) to a minute old,
  as the live poll's presence is. When one has gone stale, one request renders it while
  the others keep serving the previous body for the few seconds that takes.

Audiences never share a body: the audience is part of the key, and a buyer's audience
is the stakeholder (their scope is their track plus their own tasks, so no two buyers
are guaranteed the same HTML). A request whose body depends on the request itself (a
task's fields opened by ``?edit=``, a re-plan offer) renders its own and keeps nothing.

The per-request parts live outside the body (the frame) or go in by replacement: the
body is rendered with a random placeholder as its CSRF token, stored beside it, and
each response swaps in the request's own masked token.
"""

import secrets
import time

from django.core.cache import caches
from django.middleware.csrf import get_token
from django.utils.safestring import mark_safe

FRESH_FOR = 60  # seconds a body is served before it is rendered again
KEEP_FOR = 10 * 60  # a stale body still answers while one request renders the next
RENEWING_FOR = 10  # seconds the request renewing a body keeps the others serving it


def _store():
    return caches["fragments"]


def _generation_key(room_id):
    return f"room-gen:{room_id}"


def _body_key(room, audience):
    return f"room-body:{room.pk}:{audience}:{room.revision}"


def forget(room_ids):
    """Every kept body of these rooms is stale (call on commit)."""
    _store().set_many({_generation_key(pk): secrets.token_hex(8) for pk in room_ids}, None)


def room_body(request, *, room, audience, render, shared=True):
    """The page body for ``audience`` of ``room`` at its current revision, with this
    request's CSRF token in it.

    ``render(csrf_token)`` renders the body (a string) with ``csrf_token`` as the
    context's token; it runs only when no fresh body is kept. ``shared=False``: this
    request's body is its own (rendered, not kept).
    """
    if not shared:
        return mark_safe(render(get_token(request)))
    store = _store()
    key, generation_key = _body_key(room, audience), _generation_key(room.pk)
    found = store.get_many([key, generation_key])
    kept, generation = found.get(key), found.get(generation_key)
    now = time.time()
    current = kept is not None and kept["generation"] == generation
    # Fresh, or stale while another request renders the next one: serve it.
    if current and (
        now - kept["at"] < FRESH_FOR or not store.add(f"{key}:renewing", 1, RENEWING_FOR)
    ):
        return _with_token(kept, request)
    placeholder = secrets.token_urlsafe(24)  # letters, digits, - and _: never escaped
    kept = {"generation": generation, "at": now, "token": placeholder, "html": render(placeholder)}
    store.set(key, kept, KEEP_FOR)
    return _with_token(kept, request)


def _with_token(kept, request):
    return mark_safe(kept["html"].replace(kept["token"], get_token(request)))
