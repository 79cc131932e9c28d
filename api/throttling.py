"""Rate limits in the shared cache: per API token, and per client address for sign-in."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """Each token gets ``API_THROTTLE_RATE`` requests (e.g. "600/min"), whoever uses it."""

    scope = "token"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return f"throttle:api:token:{request.auth.pk}"
        return f"throttle:api:anon:{self.get_ident(request)}"


class SignInRateThrottle(SimpleRateThrottle):
    """Exchanging a password for a token: ``API_SIGNIN_RATE`` per client address."""

    scope = "signin"

    def get_rate(self):
        return settings.API_SIGNIN_RATE

    def get_cache_key(self, request, view):
        return f"throttle:api:signin:{self.get_ident(request)}"
