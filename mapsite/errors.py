"""Error pages. Under the buyer's paths (/b/, /cal/) a 404 is the buyer's own page, with
the buyer pages' headers (no referrer, not indexed); everywhere else the seller's."""

from django.views.defaults import page_not_found as default_page_not_found

BUYER_PREFIXES = ("/b/", "/cal/")


def page_not_found(request, exception):
    if request.path.startswith(BUYER_PREFIXES):
        from stakeholders.buyer_views import not_found

        return not_found(request)
    return default_page_not_found(request, exception)
