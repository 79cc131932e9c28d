"""A room page rendered once and served to everyone who would see the same HTML.

A room page is mostly the same for every viewer of one audience: every seller of the
organisation sees the same plan editor, and a buyer sees what their scope shows them.
What is the same (the seller page's body: everything but the frame, which names the
signed-in person; the buyer's whole page) is rendered once per ``(room, audience,
revision)`` and kept in the ``fragments`` cache (a folder of its own on the embedded
default, Redis in production); the next view of the same audience gets it with its
own request's values put in.

When a render is served again, and when it is not:

- **The room changed** (any write through a service moves ``room.revision``): the
  revision is part of the key, so the next view renders afresh.
- **Something was logged without a revision** (a link issued or revoked, a buyer's
  first look, reminders stopped: ``rooms.activity_log.activity_record``): the room's
  generation in the cache moves on commit (``forget``), and every render of the room,
  for every audience, is stale.
- **Time passed**: a render is served for ``FRESH_FOR`` seconds, then made again.
  That bounds what no revision tracks (relative times like "seen 3 min ago", today's
  date behind "due tomorrow", a teammate's new name, the team list, a write that
  bypassed the services) to a minute old, as the live poll's presence is. When one has
  gone stale, one request renders it while the others keep serving the previous one
  for the few seconds that takes.

Audiences never share a render: the audience is part of the key, and a buyer's
audience is the stakeholder with their scope and track (their page names them, and
their scope includes their own tasks). A request whose page depends on the request
itself (a task's fields opened by ``?edit=``, a re-plan offer, a message to show)
renders its own and keeps nothing.

The per-request values (the CSRF token, a buyer's live ticket) go in by replacement:
the page is rendered with random placeholders in their place, kept beside it, and
each response swaps in its own request's values.
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


def _render_key(room, audience):
    return f"room-render:{room.pk}:{audience}:{room.revision}"


def forget(room_ids):
    """Every kept body of these rooms is stale (call on commit)."""
    generations = {_generation_key(pk): secrets.token_hex(8) for pk in room_ids}
    _store().set_many(generations, KEEP_FOR)  # outlives every body it makes stale


def room_render(request, *, room, audience, render, shared=True, per_request=None):
    """The HTML ``render`` makes for ``audience`` of ``room`` at its current revision,
    with this request's own values in it.

    ``render(holes)`` renders it with ``holes["csrf_token"]`` as the context's CSRF
    token and ``holes[name]`` for each name of ``per_request`` (values safe in HTML
    as they are, like a signed ticket); it runs only when no fresh render is kept.
    ``shared=False``: this request's HTML is its own (rendered, not kept).
    """
    values = {"csrf_token": get_token(request), **(per_request or {})}
    if not shared:
        return mark_safe(render(values))
    store = _store()
    key, generation_key = _render_key(room, audience), _generation_key(room.pk)
    found = store.get_many([key, generation_key])
    kept, generation = found.get(key), found.get(generation_key)
    now = time.time()
    current = (
        kept is not None
        and kept["generation"] == generation
        and kept["holes"].keys() == values.keys()
    )
    # Fresh, or stale while another request renders the next one: serve it.
    if current and (
        now - kept["at"] < FRESH_FOR or not store.add(f"{key}:renewing", 1, RENEWING_FOR)
    ):
        return _filled(kept, values)
    # Letters, digits, - and _: never escaped, never anything a person typed.
    holes = {name: secrets.token_urlsafe(24) for name in values}
    kept = {"generation": generation, "at": now, "holes": holes, "html": render(holes)}
    store.set(key, kept, KEEP_FOR)
    return _filled(kept, values)


def _filled(kept, values):
    html = kept["html"]
    for name, hole in kept["holes"].items():
        html = html.replace(hole, values[name])
    return mark_safe(html)
