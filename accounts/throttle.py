"""Counting failed attempts in the shared cache (Redis in production, a folder in the
embedded default), so every web process counts together: wrong passwords, password
reset requests, guessed buyer links.

A ``Limiter`` counts hits per key in a window that starts with the first hit; once
``limit`` is reached the key is blocked until the window ends."""

import math
import time
from dataclasses import dataclass

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


@dataclass(frozen=True)
class Limiter:
    name: str
    limit_setting: str
    window_setting: str

    @property
    def limit(self):
        return getattr(settings, self.limit_setting)

    @property
    def window(self):
        return getattr(settings, self.window_setting)

    def _key(self, key):
        return f"limit:{self.name}:{str(key).lower()[:200]}"

    def blocked(self, key):
        return cache.get(self._key(key), 0) >= self.limit

    def retry_after(self, key):
        """Seconds until the window of ``key`` ends (at least 1)."""
        start = cache.get(self._key(key) + ":start", time.time())
        return max(1, math.ceil(start + self.window - time.time()))

    def hit(self, key):
        key = self._key(key)
        window = self.window
        now = time.time()
        # The window starts with the first hit; add() is a no-op when the key exists.
        cache.add(f"{key}:start", now, timeout=window)
        if cache.add(key, 1, timeout=window):
            return
        try:
            cache.incr(key)
        except ValueError:  # expired between add() and incr()
            cache.set(key, 1, timeout=window)
            return
        # Backends without a native incr (the file cache) store the new count with their
        # default timeout (restarted by every hit): put the window's end back.
        start = cache.get(f"{key}:start", now)
        cache.touch(key, max(1, math.ceil(start + window - now)))

    def clear(self, key):
        key = self._key(key)
        cache.delete_many([key, f"{key}:start"])


# Wrong passwords, per address tried and per client address.
SIGN_IN_BY_EMAIL = Limiter("signin-email", "SIGN_IN_FAILURE_LIMIT", "SIGN_IN_WINDOW")
SIGN_IN_BY_CLIENT = Limiter("signin-client", "SIGN_IN_CLIENT_LIMIT", "SIGN_IN_WINDOW")
# Password reset emails asked for, per client address (each one sends an email).
PASSWORD_RESET_BY_CLIENT = Limiter(
    "password-reset", "PASSWORD_RESET_LIMIT", "PASSWORD_RESET_WINDOW"
)


def sign_in_wait(request, email):
    """Seconds a sign-in (page or API) must wait because this client address or this
    email failed too often, or 0: past the limit the password is not even checked."""
    limits = [(SIGN_IN_BY_CLIENT, client_address(request))]
    if email:
        limits.append((SIGN_IN_BY_EMAIL, email))
    return max(
        (limiter.retry_after(key) for limiter, key in limits if limiter.blocked(key)), default=0
    )


def sign_in_failed(request, email):
    SIGN_IN_BY_CLIENT.hit(client_address(request))
    if email:
        SIGN_IN_BY_EMAIL.hit(email)


def sign_in_succeeded(email):
    SIGN_IN_BY_EMAIL.clear(email)
