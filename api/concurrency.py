"""Strong ETags from a row's ``version``, and strict If-Match on every change.

A change needs ``If-Match`` (missing: 428). Its value must be the row's current version
when the change is made, checked with the row locked (else 412, nothing written): unlike
the pages, the API does not merge onto a newer version.
"""

import re

from django.db import transaction

from .exceptions import PreconditionFailed, PreconditionRequired

ETAG_RE = re.compile(r'^\s*"(\d{1,10})"\s*$|^\s*(\d{1,10})\s*$')


def etag_for(instance):
    return f'"{instance.version}"'


def require_if_match(request):
    value = request.headers.get("If-Match")
    if value is None or not value.strip():
        raise PreconditionRequired()


def if_match_version(request):
    """The version the client says it read; 428 when it sent no If-Match, 412 when the
    value cannot be one of our ETags (a weak one, ``*``, garbage)."""
    value = request.headers.get("If-Match")
    if value is None or not value.strip():
        raise PreconditionRequired()
    match = ETAG_RE.match(value)
    if not match:
        raise PreconditionFailed()
    return int(match.group(1) or match.group(2))


def locked_at_version(queryset, pk, version):
    """Lock the row and check its version (call inside ``transaction.atomic``)."""
    assert transaction.get_connection().in_atomic_block
    row = queryset.select_for_update().get(pk=pk)
    if row.version != version:
        raise PreconditionFailed(row.version)
    return row
