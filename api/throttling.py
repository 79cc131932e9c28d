"""Rate limits in the shared cache: per API token, and per client address for sign-in."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.models import ApiToken
from accounts.throttle import client_address


class _ClientAddress:
    """The client's address as the rest of the site reads it: X-Forwarded-For only as
    far as the operator's TRUSTED_PROXY_COUNT (DRF's own reading trusts the header)."""

    def get_ident(self, request):
        return client_address(request)


class TokenRateThrottle(_ClientAddress, SimpleRateThrottle):
    """Each token gets ``API_THROTTLE_RATE`` requests (e.g. "600/min"), whoever uses it."""

    scope = "token"

    def get_rate(self):
        return settings.API_THROTTLE_RATE

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            return f"throttle:api:token:{request.auth.pk}"
        return f"throttle:api:anon:{self.get_ident(request)}"


class SignInRateThrottle(_ClientAddress, SimpleRateThrottle):
    """Exchanging a password for a token: ``API_SIGNIN_RATE`` per client address."""

    scope = "signin"

    def get_rate(self):
        return settings.API_SIGNIN_RATE

    def get_cache_key(self, request, view):
        return f"throttle:api:signin:{self.get_ident(request)}"
