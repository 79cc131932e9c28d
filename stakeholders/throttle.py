"""Limits on guessing buyer links (and calendar feeds), per client address, counted in
the shared cache by accounts.throttle, so every web process counts together (one budget
with invitation links: accounts.throttle.TOKEN_GUESSES).

Each request with a token takes an attempt before the token is looked up; a token that
exists (active, expired or revoked) gives it back, so only misses count and no more than
``BUYER_LINK_MISS_LIMIT`` lookups of unknown tokens happen per window, however many
requests arrive at once."""

from accounts.throttle import client_address, token_found, token_guess_allowed

__all__ = ["client_address", "guess_allowed", "not_a_miss"]


def guess_allowed(request):
    """Take an attempt before looking a token up: False means answer 429."""
    return token_guess_allowed(request)


def not_a_miss(request):
    """The token was found: its attempt does not count."""
    token_found(request)
