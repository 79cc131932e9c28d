from rest_framework import permissions

from accounts.models import ApiToken, Role


def membership_of(request):
    """The membership behind the request's token (its organisation scopes everything)."""
    return request.auth.membership


class IsOrgMember(permissions.BasePermission):
    """Signed in with an active API token of a member of an organisation."""

    def has_permission(self, request, view):
        return isinstance(request.auth, ApiToken)


class IsOrgAdmin(IsOrgMember):
    message = "Only the organisation's admins manage webhooks."

    def has_permission(self, request, view):
        return super().has_permission(request, view) and request.auth.membership.role == Role.ADMIN
