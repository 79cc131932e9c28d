"""Which URLs and addresses an outgoing request may reach (mapsite/outbound.py sends
them), and what the person who typed a refused URL is told.

**The rule**, in this one place, applied when a URL is saved (``url_problem``) and
again on every connection (``mapsite.outbound.post``):

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

``explain`` shows an operator what the rule decides about a URL and why
(``manage.py check_outbound``).
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote, urlsplit

from django.conf import settings

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
