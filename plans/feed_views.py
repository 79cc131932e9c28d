"""The per-stakeholder calendar feed, polled by calendar apps at /cal/<token>.ics."""

from django.http import HttpResponse, HttpResponseNotAllowed
from django.utils import timezone

from accounts.throttle import token_found, token_guess_allowed
from stakeholders.buyer_views import not_found
from stakeholders.calendar import ICS_CONTENT_TYPE, feed_find
from stakeholders.models import CalendarFeed

from .feed import stakeholder_feed_ics


def _quiet(response):
    response._has_been_logged = True  # noqa: SLF001 - Django's own flag; the path holds a token
    return response


def calendar_feed(request, token):
    if request.method not in ("GET", "HEAD"):
        # Not require_GET: its refusal would log the path, and so the token.
        return _quiet(HttpResponseNotAllowed(["GET", "HEAD"]))
    if not token_guess_allowed(request):
        return _quiet(HttpResponse("Too many unknown addresses; wait a few minutes.", status=429))
    feed = feed_find(token)
    if feed is None:
        # The attempt taken above stays counted: a miss. (not_found also keeps the token
        # out of Django's log.)
        return not_found(request)
    token_found(request)
    CalendarFeed.objects.filter(pk=feed.pk).update(last_used_at=timezone.now())
    body = stakeholder_feed_ics(feed.room, feed.stakeholder)
    response = HttpResponse(body, content_type=ICS_CONTENT_TYPE)
    response["Content-Disposition"] = 'inline; filename="plan.ics"'
    response["Cache-Control"] = "private, max-age=0, no-cache"
    response["Referrer-Policy"] = "no-referrer"
    response["X-Robots-Tag"] = "noindex, nofollow"
    return _quiet(response)
