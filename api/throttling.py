"""Rate limits in the shared cache: per API token, and per client address for sign-in.

DRF's own throttles keep a list of request times with a read and a later write, so
requests arriving together all read the same list and all pass. These take a request
with the shared cache's atomic increment instead (accounts.throttle.Limiter: Redis INCR,
or the embedded file cache's locked increment), so any number of requests at once, in
any number of web processes, let exactly the rate through. The window is fixed: it
starts with a key's first request (``"600/min"``: 600 requests, then 429 with
Retry-After until that minute ends)."""

from dataclasses import dataclass

from django.conf import settings
from rest_framework.throttling import BaseThrottle

from accounts.models import ApiToken
from accounts.throttle import Limiter, client_address

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_rate(rate):
    """``"600/min"`` → (600, 60); the period is read from its first letter, as DRF does."""
    count, period = rate.split("/")
    return int(count), PERIODS[period.strip()[0].lower()]


@dataclass(frozen=True)
class RateLimiter(Limiter):
    """A Limiter whose limit and window both come from one rate setting ("600/min"),
    named by ``limit_setting``."""

    window_setting: str = ""

    @property
    def limit(self):
        return parse_rate(getattr(settings, self.limit_setting))[0]

    @property
    def window(self):
        return parse_rate(getattr(settings, self.limit_setting))[1]


API_REQUESTS = RateLimiter("api", "API_THROTTLE_RATE")
API_SIGN_INS = RateLimiter("api-signin", "API_SIGNIN_RATE")


class _AtomicThrottle(BaseThrottle):
    limiter: RateLimiter

    def key(self, request):
        raise NotImplementedError

    def allow_request(self, request, view):
        self._key = self.key(request)
        return self.limiter.attempt(self._key)

    def wait(self):
        return self.limiter.retry_after(self._key)

    def get_ident(self, request):
        # X-Forwarded-For only as far as the operator's TRUSTED_PROXY_COUNT (DRF's own
        # reading trusts the header).
        return client_address(request)


class TokenRateThrottle(_AtomicThrottle):
    """Each token gets ``API_THROTTLE_RATE`` requests (e.g. "600/min"), whoever uses it;
    requests without a token count per client address."""

    limiter = API_REQUESTS

    def key(self, request):
        if isinstance(request.auth, ApiToken):
            return f"token:{request.auth.pk}"
        return f"anon:{self.get_ident(request)}"


class SignInRateThrottle(_AtomicThrottle):
    """Exchanging a password for a token: ``API_SIGNIN_RATE`` per client address."""

    limiter = API_SIGN_INS

    def key(self, request):
        return self.get_ident(request)
