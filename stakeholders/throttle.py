"""Limits on guessing buyer links (and calendar feeds), per client address, counted in
the shared cache by accounts.throttle, so every web process counts together.

Each request with a token takes an attempt before the token is looked up; a token that
exists (active, expired or revoked) gives it back, so only misses count and no more than
``BUYER_LINK_MISS_LIMIT`` lookups of unknown tokens happen per window, however many
requests arrive at once."""

from accounts.throttle import Limiter, client_address

LINK_GUESSES = Limiter("buyer-link-misses", "BUYER_LINK_MISS_LIMIT", "BUYER_LINK_MISS_WINDOW")

__all__ = ["client_address", "guess_allowed", "not_a_miss"]


def guess_allowed(request):
    """Take an attempt before looking a token up: False means answer 429."""
    return LINK_GUESSES.attempt(client_address(request))


def not_a_miss(request):
    """The token was found: its attempt does not count."""
    LINK_GUESSES.give_back(client_address(request))
