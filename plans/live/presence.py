"""Who is here: each viewer's mark in the shared cache (never in process memory), kept
fresh by every fourth poll, and the name a seller is shown with (from the session)."""

import hashlib
import json
import time

from django.core.cache import cache

PRESENCE_TTL = 10  # seconds without a presence poll before a viewer leaves "who's here"
SESSION_LABEL = "live_label"


def presence_key(room_id):
    return f"presence:{room_id}"


def presence_touch(room_id, viewer, label, side, stored=None):
    """Mark ``viewer`` present; return everyone present, sorted, and a short hash.

    The room's entry is rewritten only when this viewer's mark is getting old, so most
    presence polls cost one cache read (which the caller may already have made).
    """
    key = presence_key(room_id)
    now = time.time()
    if stored is None:
        stored = cache.get(key) or {}
    here = {k: v for k, v in stored.items() if now - v["ts"] < PRESENCE_TTL}
    mine = here.get(viewer)
    if mine is None or now - mine["ts"] > PRESENCE_TTL / 2 or mine["label"] != label:
        here[viewer] = {"label": label, "side": side, "ts": now}
        cache.set(key, here, timeout=PRESENCE_TTL * 10)
    people = sorted(
        ({"label": v["label"], "side": v["side"]} for v in here.values()),
        key=lambda p: (p["side"] != "seller", p["label"]),
    )
    digest = hashlib.sha1(
        json.dumps(people, sort_keys=True).encode(), usedforsecurity=False
    ).hexdigest()[:12]
    return people, digest
