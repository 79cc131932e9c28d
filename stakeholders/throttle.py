"""Limits on guessing buyer links, per client address, in the shared cache (Redis in
production, a folder in the embedded default), so every web process counts together."""

import math
import time

from django.conf import settings
from django.core.cache import cache


def client_address(request):
    """The client's address; X-Forwarded-For entries are trusted only for the number of
    proxies the operator declared (TRUSTED_PROXY_COUNT)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "unknown")


def _key(request):
    return f"buyer-link-misses:{client_address(request)}"


def guessing_blocked(request):
    return cache.get(_key(request), 0) >= settings.BUYER_LINK_MISS_LIMIT


def record_miss(request):
    key = _key(request)
    window = settings.BUYER_LINK_MISS_WINDOW
    now = time.time()
    # The window starts with the first miss; add() is a no-op when the key exists.
    cache.add(f"{key}:start", now, timeout=window)
    if cache.add(key, 1, timeout=window):
        return
    try:
        cache.incr(key)
    except ValueError:  # expired between add() and incr()
        cache.set(key, 1, timeout=window)
        return
    # Backends without a native incr (the file cache) store the new count with their
    # default timeout (5 minutes, restarted by every miss): put the window's end back.
    start = cache.get(f"{key}:start", now)
    cache.touch(key, max(1, math.ceil(start + window - now)))
