"""Limits on guessing buyer links (and calendar feeds), per client address, counted in
the shared cache by accounts.throttle, so every web process counts together."""

from accounts.throttle import Limiter, client_address

LINK_GUESSES = Limiter("buyer-link-misses", "BUYER_LINK_MISS_LIMIT", "BUYER_LINK_MISS_WINDOW")

__all__ = ["client_address", "guessing_blocked", "record_miss"]


def guessing_blocked(request):
    return LINK_GUESSES.blocked(client_address(request))


def record_miss(request):
    LINK_GUESSES.hit(client_address(request))
