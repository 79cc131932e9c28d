"""Outgoing HTTP requests: the app's only way to reach another server (Slack's incoming
webhooks, organisations' webhook endpoints).

**The rule**, in this one place, applied when a URL is saved (``url_problem``) and
again on every connection (``post``):

- ``https://`` only; plain ``http://`` only to a network the operator allowed; no user
  name or password in the URL;
- the host is resolved and *every* address it resolves to must be public. Refused:
  unspecified, loopback, link-local, multicast, private, shared (100.64.0.0/10),
  reserved, unique-local and site-local IPv6, IPv4-mapped and IPv4-compatible IPv6,
  and IPv6 translations of IPv4 (6to4, Teredo, NAT64) — however the address is spelled:
  ``2130706433``, ``0x7f000001``, ``0177.0.0.1`` and ``127.1`` are all 127.0.0.1;
- unless the address lies in ``OUTBOUND_ALLOW_NETWORKS``, the operator's list of
  networks (a self-hoster's CRM on the private network). It is a server setting,
  never a tenant's. An IPv4-mapped IPv6 address is not inside an IPv4 network.

A name that does not resolve when the URL is saved is accepted: nothing can be
reached through it, and it is checked again, like every URL, when used.

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
import ipaddress
import re
import socket
import ssl
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.utils import timezone

# What the person who typed a URL is told when it is refused (forms, API, admin).
INVALID = "Enter a valid URL."
HTTPS_ONLY = (
    "The URL must start with https:// (plain http:// only to a network the server's "
    "operator allowed)."
)
NO_CREDENTIALS = "The URL must not contain a user name or password."
NOT_ALLOWED = (
    "This URL is not allowed: its host is, or resolves to, an internal address (loopback, "
    "private, link-local or reserved). Use the service's public https:// address."
)

# Short statuses (what a delivery log shows).
ADDRESS_NOT_ALLOWED = "address not allowed"
URL_NOT_ALLOWED = "URL not allowed"
HOST_NOT_FOUND = "host not found"

# An error answer kept as ``error_code``: a bare word, nothing that could carry a page.
ERROR_CODE = re.compile(r"[a-z_]{1,40}")

_SHARED = ipaddress.ip_network("100.64.0.0/10")
_V4_COMPATIBLE = ipaddress.ip_network("::/96")
_UNIQUE_LOCAL = ipaddress.ip_network("fc00::/7")
_TRANSLATIONS = {
    "6to4": ipaddress.ip_network("2002::/16"),
    "Teredo": ipaddress.ip_network("2001::/32"),
    "NAT64": ipaddress.ip_network("64:ff9b::/96"),
    "local NAT64": ipaddress.ip_network("64:ff9b:1::/48"),
}
_HOST_NAME = re.compile(r"[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?")


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


class _Refused(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class _Url:
    scheme: str
    host: str  # ASCII, lower case, without brackets; an address in its usual spelling
    port: int
    target: str  # path and query
    address: ipaddress.IPv4Address | ipaddress.IPv6Address | None  # when host is one


# --- the operator's networks ------------------------------------------------------------


def allowed_networks():
    """The networks of ``OUTBOUND_ALLOW_NETWORKS`` (checked when the server starts)."""
    return _networks(tuple(str(n) for n in getattr(settings, "OUTBOUND_ALLOW_NETWORKS", ())))


@lru_cache(maxsize=16)
def _networks(items):
    return tuple(ipaddress.ip_network(item, strict=False) for item in items)


def allowed_by(address):
    """The operator's network that ``address`` lies in, or None."""
    return next(
        (n for n in allowed_networks() if n.version == address.version and address in n), None
    )


# --- the address rule ---------------------------------------------------------------------


def refusal(address):
    """Why ``address`` may not be reached ("loopback", "private", …), or None."""
    if allowed_by(address) is not None:
        return None
    if address.is_unspecified:
        return "unspecified"
    if address.is_loopback:
        return "loopback"
    if address.is_link_local:
        return "link-local"
    if address.is_multicast:
        return "multicast"
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return "IPv4-mapped"
        if address in _V4_COMPATIBLE:
            return "IPv4-compatible"
        if address in _UNIQUE_LOCAL:
            return "unique-local"
        if address.is_site_local:
            return "site-local"
        for name, network in _TRANSLATIONS.items():
            if address in network:
                return f"{name} translation"
    elif address in _SHARED:
        return "shared address space"
    if address.is_private:
        return "private"
    if address.is_reserved:
        return "reserved"
    if not address.is_global:
        return "not public"
    return None


# --- parsing and resolving ---------------------------------------------------------------


def _ipv4_any_spelling(host):
    """The IPv4 address ``host`` spells the way inet_aton reads it (decimal, 0x hex,
    0-octal, one to four parts: 2130706433, 0x7f000001, 0177.0.0.1, 127.1), None when
    it is a name. A number that is no address (256.1.1.1) is not a valid URL."""
    parts = host.split(".")
    if not 1 <= len(parts) <= 4:
        return None
    values = []
    for part in parts:
        if re.fullmatch(r"0[xX][0-9a-fA-F]*", part):
            values.append(int(part[2:] or "0", 16))
        elif re.fullmatch(r"0[0-7]+", part):
            values.append(int(part, 8))
        elif re.fullmatch(r"[0-9]+", part):
            if len(part) > 1 and part.startswith("0"):
                raise _Refused(INVALID)  # 08, 09: neither octal nor a name
            values.append(int(part))
        else:
            return None
    *head, last = values
    if any(v > 255 for v in head) or last >= 256 ** (4 - len(head)):
        raise _Refused(INVALID)
    number = last
    for i, value in enumerate(head):
        number += value << (8 * (3 - i))
    return ipaddress.IPv4Address(number)


def _parse(url):
    """The URL's parts, or _Refused with what to tell the person who typed it."""
    url = (url or "").strip() if isinstance(url, str) else ""
    if not url or any(c.isspace() or ord(c) < 32 or ord(c) == 127 for c in url):
        raise _Refused(INVALID)
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if not scheme:
            raise _Refused(INVALID)
        if scheme not in ("https", "http"):
            raise _Refused(HTTPS_ONLY)
        host = parts.hostname
        port = parts.port
        has_credentials = parts.username is not None or parts.password is not None
    except ValueError:
        raise _Refused(INVALID) from None
    if not host:
        raise _Refused(INVALID)
    if has_credentials:
        raise _Refused(NO_CREDENTIALS)
    address = None
    if ":" in host:
        try:
            address = ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            raise _Refused(INVALID) from None
    else:
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            raise _Refused(INVALID) from None
        if not _HOST_NAME.fullmatch(host):
            raise _Refused(INVALID)
        address = _ipv4_any_spelling(host.rstrip("."))
    if address is not None:
        host = str(address)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    target = quote(target, safe="!#$%&'()*+,/:;=?@[]~")  # non-ASCII as %XX, as browsers do
    return _Url(scheme, host, port or (443 if scheme == "https" else 80), target, address)


def _resolve(url):
    """Every address the URL's host stands for (a name is looked up once).
    Raises OSError (socket.gaierror) when it does not resolve."""
    if url.address is not None:
        return [url.address]
    name = url.host
    if name.rstrip(".") == "localhost" or name.rstrip(".").endswith(".localhost"):
        name = "localhost"  # every name under localhost is this machine (RFC 6761)
    found = []
    for family, _type, _proto, _name, sockaddr in socket.getaddrinfo(
        name, url.port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    ):
        if family not in (socket.AF_INET, socket.AF_INET6):
            continue
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in found:
            found.append(address)
    if not found:
        raise socket.gaierror(socket.EAI_NONAME, "no address")
    return found


def _plain_http_allowed(addresses):
    return bool(addresses) and all(allowed_by(a) is not None for a in addresses)


# --- when a URL is saved -------------------------------------------------------------------


def url_problem(url):
    """Why ``url`` may not be saved as a place to send requests to, or None when it may.
    The one check behind every form, API call and admin page that saves such a URL."""
    try:
        parsed = _parse(url)
    except _Refused as refused:
        return refused.message
    try:
        addresses = _resolve(parsed)
    except (OSError, ValueError):
        addresses = []  # does not resolve now: checked again when used
    if any(refusal(a) for a in addresses):
        return NOT_ALLOWED
    if parsed.scheme == "http" and not _plain_http_allowed(addresses):
        return HTTPS_ONLY
    return None


@dataclass(frozen=True)
class Verdict:
    """What the rule decides about a URL, for an operator (``manage.py check_outbound``)."""

    origin: str  # scheme://host:port, without the path (a Slack URL's path is its secret)
    problem: str | None
    addresses: list  # (address, refusal or None, the operator's network allowing it or None)
    resolved: bool


def explain(url):
    try:
        parsed = _parse(url)
    except _Refused as refused:
        return Verdict("", refused.message, [], False)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    origin = f"{parsed.scheme}://{host}:{parsed.port}"
    try:
        addresses = _resolve(parsed)
    except (OSError, ValueError):
        return Verdict(origin, url_problem(url), [], False)
    rows = [(a, refusal(a), allowed_by(a)) for a in addresses]
    return Verdict(origin, url_problem(url), rows, True)


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
