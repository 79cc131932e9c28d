"""Counting attempts in the shared cache (Redis in production, a folder in the
embedded default), so every web process counts together: wrong passwords, password
reset requests, guessed buyer links, calendar feeds and invitations.

A ``Limiter`` lets at most ``limit`` attempts per key through in a window that starts
with the first one; once they are used, the key is refused until the window ends.
An attempt is taken *before* the work it guards (an atomic increment in the shared
cache: Redis INCR, or the embedded file cache's locked increment), so any number of
requests at once, in any number of processes, let exactly ``limit`` through. An attempt
that turns out not to count (the right password, a link that exists) is given back."""

import contextlib
import logging
import math
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def client_address(request):
    """The client's address; X-Forwarded-For entries are trusted only for the number of
    proxies the operator declared (TRUSTED_PROXY_COUNT): each trusted proxy appends the
    address it received the request from, so the client is the ``count``-th entry from
    the right, and whatever the client wrote further left is ignored."""
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
    # Whether the key may be written to the log (a client address may; an email not).
    log_key: bool = True

    @property
    def limit(self):
        return getattr(settings, self.limit_setting)

    @property
    def window(self):
        return getattr(settings, self.window_setting)

    def _key(self, key):
        return f"limit:{self.name}:{str(key).lower()[:200]}"

    def _count(self, key, window):
        """One more attempt for ``key``, atomically; the count including it."""
        for _ in range(3):
            # The window starts with the first attempt: add() creates the counter with
            # the window as its timeout and does nothing when it exists.
            cache.add(f"{key}:start", time.time(), timeout=window)
            cache.add(key, 0, timeout=window)
            try:
                count = cache.incr(key)
            except ValueError:  # the window ended between add() and incr(): again
                continue
            if count <= 1:
                # The first attempt of this window. Redis' INCR (and DECR) make a counter
                # without a timeout if the key expired just before: give it the window.
                cache.touch(key, window)
            return count
        raise RuntimeError(f"could not count an attempt for {key}")

    def attempt(self, key):
        """Take one attempt for ``key``: True if it may go ahead, False if the limit
        is used up for this window (see ``retry_after``); a refused attempt is not
        kept, so the count is always the attempts that went ahead."""
        count = self._count(self._key(key), self.window)
        if count > self.limit:
            self.give_back(key)
            return False
        if count == self.limit:  # the last one: from now on this key is refused
            who = f"client {key}" if self.log_key else "one email address"
            log.warning(
                "Rate limit %s reached by %s: refused for the rest of its %ss window.",
                self.name,
                who,
                self.window,
            )
        return True

    def give_back(self, key):
        """Return an attempt that turned out not to count (e.g. a correct password)."""
        # The window may have ended meanwhile: then there is nothing to give back.
        with contextlib.suppress(ValueError):
            cache.decr(self._key(key))

    def retry_after(self, key):
        """Seconds until the window of ``key`` ends (at least 1)."""
        start = cache.get(self._key(key) + ":start", time.time())
        return max(1, math.ceil(start + self.window - time.time()))

    def clear(self, key):
        key = self._key(key)
        cache.delete_many([key, f"{key}:start"])


# Wrong passwords, per address tried and per client address.
SIGN_IN_BY_EMAIL = Limiter("signin-email", "SIGN_IN_FAILURE_LIMIT", "SIGN_IN_WINDOW", log_key=False)
SIGN_IN_BY_CLIENT = Limiter("signin-client", "SIGN_IN_CLIENT_LIMIT", "SIGN_IN_WINDOW")
# Capability tokens that do not exist (buyer links, calendar feeds, invitations), per
# client address: one budget for every kind, so guessing one kind does not reset another.
TOKEN_GUESSES = Limiter("token-misses", "BUYER_LINK_MISS_LIMIT", "BUYER_LINK_MISS_WINDOW")
# Password reset emails asked for, per client address (each one sends an email).
PASSWORD_RESET_BY_CLIENT = Limiter(
    "password-reset", "PASSWORD_RESET_LIMIT", "PASSWORD_RESET_WINDOW"
)


def _sign_in_limits(request, email):
    limits = [(SIGN_IN_BY_CLIENT, client_address(request))]
    if email:
        limits.append((SIGN_IN_BY_EMAIL, email))
    return limits


def sign_in_attempt(request, email):
    """Take a sign-in attempt (page or API) for this client address and this email
    before the password is checked: 0 if it may go ahead, else the seconds to wait.
    Past the limit the password is not even checked, and nothing is counted."""
    taken, wait = [], 0
    for limiter, key in _sign_in_limits(request, email):
        if limiter.attempt(key):
            taken.append((limiter, key))
        else:
            wait = max(wait, limiter.retry_after(key))
    if wait:
        for limiter, key in taken:
            limiter.give_back(key)
    return wait


def sign_in_succeeded(request, email):
    """The right password: the attempt does not count, and the email starts afresh."""
    SIGN_IN_BY_CLIENT.give_back(client_address(request))
    SIGN_IN_BY_EMAIL.clear(email)


def token_guess_allowed(request):
    """Take an attempt before looking a capability token up: False means answer 429.
    A token that exists gives it back (``token_found``), so only misses count."""
    return TOKEN_GUESSES.attempt(client_address(request))


def token_found(request):
    TOKEN_GUESSES.give_back(client_address(request))
