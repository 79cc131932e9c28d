"""Outgoing HTTP requests: the app's only way to reach another server (Slack's incoming
webhooks, organisations' webhook endpoints).

**The rule** (which URLs and addresses may be reached) is mapsite/outbound_rule.py,
applied when a URL is saved (``url_problem``) and again here, on every connection
(``post``).

**Connecting** resolves the name once, checks every address, then dials the checked
address itself — so a DNS answer that changes in between (DNS rebinding) cannot switch
it — sending the URL's name as ``Host`` and, for https, as the TLS server name (SNI)
that the certificate must match. Redirects are never followed (a 3xx is an answer).
Proxies from the environment (``HTTPS_PROXY``) are not used.

**What went wrong** is told as a short status — "connection refused", "timed out",
"HTTP 500", "TLS certificate not valid", "address not allowed", … — never a response
body or the socket's own error text, which would map the inside of a network to
whoever chose the URL. The one exception is opt-in and narrow: ``error_code``, an
error answer that is nothing but a bare word of ``[a-z_]`` (Slack's ``invalid_token``).
"""

import errno
import http.client
import re
import socket
import ssl
from datetime import UTC
from email.utils import parsedate_to_datetime

from django.utils import timezone

from .outbound_rule import _parse, _plain_http_allowed, _Refused, _resolve, refusal

# Short statuses (what a delivery log shows).
ADDRESS_NOT_ALLOWED = "address not allowed"
URL_NOT_ALLOWED = "URL not allowed"
HOST_NOT_FOUND = "host not found"

# An error answer kept as ``error_code``: a bare word, nothing that could carry a page.
ERROR_CODE = re.compile(r"[a-z_]{1,40}")


class OutboundError(Exception):
    """A request that did not get a 2xx answer. ``status``: the short status;
    ``retryable``: waiting may help; ``code``: the HTTP status, if there was an answer;
    ``retry_after``: seconds the server asked for; ``error_code``: a bare ``[a-z_]``
    word the server answered with, if that is all it answered."""

    def __init__(self, status, *, retryable=True, code=None, retry_after=None, error_code=None):
        super().__init__(status)
        self.status = status
        self.retryable = retryable
        self.code = code
        self.retry_after = retry_after
        self.error_code = error_code

    def __str__(self):
        return self.status


# --- when connecting -----------------------------------------------------------------------


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """An HTTP connection to the URL's name (Host header) dialling only the addresses
    that were checked, in order."""

    def __init__(self, host, port, addresses, timeout):
        super().__init__(host, port, timeout=timeout)
        self._addresses = addresses

    def connect(self):
        error = None
        for address in self._addresses:
            try:
                self.sock = socket.create_connection((str(address), self.port), self.timeout)
                break
            except OSError as exc:
                error = exc
        else:
            raise error
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class _PinnedHTTPSConnection(_PinnedHTTPConnection):
    """The same over TLS: the URL's name is the server name sent (SNI) and the one the
    certificate must be valid for, whatever address was dialled."""

    default_port = http.client.HTTPS_PORT

    def connect(self):
        super().connect()
        context = ssl.create_default_context()
        self.sock = context.wrap_socket(self.sock, server_hostname=self.host)


def _status_of(exc):
    """The short status for what went wrong while connecting or reading the answer."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return "TLS certificate not valid"
    if isinstance(exc, ssl.SSLError):
        return "TLS handshake failed"
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, http.client.RemoteDisconnected):
        return "connection closed"
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError):
        return "connection reset"
    if isinstance(exc, http.client.HTTPException | ValueError):
        return "invalid response"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "network unreachable"
    return "connection failed"


def post(url, body, headers, timeout):
    """POST ``body`` to ``url`` under the rule above; the HTTP status when it is 2xx,
    else OutboundError with the short status."""
    try:
        parsed = _parse(url)
    except _Refused:
        raise OutboundError(URL_NOT_ALLOWED, retryable=False) from None
    try:
        addresses = _resolve(parsed)
    except (OSError, ValueError):
        raise OutboundError(HOST_NOT_FOUND) from None
    if any(refusal(a) for a in addresses):
        raise OutboundError(ADDRESS_NOT_ALLOWED, retryable=False)
    if parsed.scheme == "http" and not _plain_http_allowed(addresses):
        raise OutboundError(URL_NOT_ALLOWED, retryable=False)
    kind = _PinnedHTTPSConnection if parsed.scheme == "https" else _PinnedHTTPConnection
    connection = kind(parsed.host, parsed.port, addresses, timeout)
    try:
        connection.request(
            "POST", parsed.target, body=body, headers={**headers, "Connection": "close"}
        )
        response = connection.getresponse()
        status = response.status
        if 200 <= status < 300:
            return status
        retry_after = retry_after_seconds(response.getheader("Retry-After"))
        error_code = None
        if status >= 400:
            head = response.read(64).decode("ascii", "replace").strip()
            error_code = head if ERROR_CODE.fullmatch(head) else None
    except (OSError, http.client.HTTPException, ValueError) as exc:
        raise OutboundError(_status_of(exc)) from None
    finally:
        connection.close()
    raise OutboundError(
        f"HTTP {status}",
        retryable=status in (408, 429) or status >= 500,
        code=status,
        retry_after=retry_after,
        error_code=error_code,
    )


def retry_after_seconds(value):
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when is None:
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - timezone.now()).total_seconds()
    return max(0.0, seconds)
