from .membership import current_membership, user_memberships


def organization(request):
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_membership": current_membership(request),
        "all_memberships": user_memberships(request),
    }
