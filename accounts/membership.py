"""Who is asking, in which organisation: the entry point of every seller view."""

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import HttpResponse
from django.shortcuts import redirect

from .models import Membership

SESSION_KEY = "current_org_id"


def current_membership(request):
    """The signed-in user's membership in the organisation chosen in the session.

    Falls back to the user's first organisation; None when they belong to none.
    Cached on the request, so a page asks the database once.
    """
    if hasattr(request, "_membership_cache"):
        return request._membership_cache
    membership = None
    if request.user.is_authenticated:
        memberships = list(Membership.objects.for_user(request.user))
        wanted = request.session.get(SESSION_KEY)
        membership = next((m for m in memberships if str(m.org_id) == wanted), None)
        if membership is None and memberships:
            membership = memberships[0]
        request._memberships_cache = memberships
    request._membership_cache = membership
    return membership


def user_memberships(request):
    current_membership(request)
    return getattr(request, "_memberships_cache", [])


def member_required(view=None, *, roles=None):
    """Require a signed-in member of an organisation (optionally with one of ``roles``).

    Sets ``request.membership`` and ``request.org``. A user without the role gets
    404, like an outsider: the page does not exist for them.
    """

    def decorator(func):
        @wraps(func)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                if getattr(request, "htmx", False):
                    # Not a login page swapped into a table cell: send the browser there.
                    response = HttpResponse(status=401)
                    response["HX-Redirect"] = redirect_to_login(
                        request.headers.get("HX-Current-URL") or request.get_full_path()
                    ).url
                    return response
                return redirect_to_login(request.get_full_path())
            membership = current_membership(request)
            if membership is None:
                return redirect("accounts:no_org")
            if roles and membership.role not in roles:
                from django.http import Http404

                raise Http404("No such page.")
            request.membership = membership
            request.org = membership.org
            return func(request, *args, **kwargs)

        return wrapper

    return decorator(view) if view is not None else decorator
