"""Where Dialdeck may send requests on an organization's behalf: its providers' base URLs.

An organization admin types a provider's base URL; the worker then POSTs to it and shows the
answer in the call log. Pointed at 127.0.0.1:6379 or 169.254.169.254, that would let anyone with
an admin seat reach into the network Dialdeck runs in (server-side request forgery). So a
provider URL must be http(s), carry no user name or password, and every address its host
resolves to (IPv4 and IPv6) must be globally routable, unless the operator allowed it in
PROVIDER_ALLOWED_HOSTS. The check runs when an account is created, and again before each request
(a name may resolve elsewhere by then: DNS rebinding); the connection resolves the name once
more, so a rebinding window of `max_age` seconds remains (pinning the checked address would
close it).

PROVIDER_ALLOWED_HOSTS: comma-separated entries, each one of

    localhost, vapi.internal      a host name: URLs naming it, on any port, whatever it resolves to
    vapi.internal:8443            a host name, on that port only
    127.0.0.1, ::1                an address: hosts that are or resolve to it, on any port
    127.0.0.1:8123, [::1]:8123    an address, on that port only (IPv6 in brackets)
    10.0.0.0/8, fd00::/8          a network (CIDR, no host bits set): hosts resolving into it

Names compare case-insensitively and without a trailing dot; a URL's port is its own or its
scheme's (80, 443). A host resolving to several addresses passes only if each one is public or
allowed. A malformed entry stops Dialdeck at start with an error naming the variable.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import time
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SETTING = "PROVIDER_ALLOWED_HOSTS"
DEFAULT_PORTS = {"http": 80, "https": 443}
# What a URL's host[:port] may hold, so that every URL parser (ours here, urllib3's when sending)
# reads the same host: no backslashes, no "@", nothing outside ASCII (IDNA names in punycode).
NETLOC = re.compile(r"[A-Za-z0-9._\-:\[\]%]+")
LABEL = r"[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?"
NAME = re.compile(rf"(?=.{{1,253}}$)({LABEL}\.)*{LABEL}")
NAT64 = ipaddress.ip_network("64:ff9b::/96")  # RFC 6052: an IPv4 address in its last 32 bits
# First match names the kind; link-local and loopback before private, which also holds them.
KINDS = (
    ("is_loopback", "a loopback address"),
    ("is_link_local", "a link-local address"),
    ("is_unspecified", "an unspecified address"),
    ("is_multicast", "a multicast address"),
    ("is_private", "a private address"),
    ("is_reserved", "a reserved address"),
)
HINT = "a provider must be on the public internet (the operator can allow it in PROVIDER_ALLOWED_HOSTS)"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class ProviderUrlRefused(ValueError):
    """A URL Dialdeck will not send requests to. `reason` says why, in words for people."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ProviderUrlUnresolvable(ProviderUrlRefused):
    """The host does not resolve: refused when an account is created, retried when placing."""


@dataclass(frozen=True)
class Allowed:
    """PROVIDER_ALLOWED_HOSTS, parsed: (name, port) and (network, port) pairs; port None = any."""

    names: frozenset[tuple[str, int | None]]
    networks: tuple[tuple[Network, int | None], ...]

    def name(self, host: str, port: int) -> bool:
        return (host, None) in self.names or (host, port) in self.names

    def address(self, address: Address, port: int) -> bool:
        return any(address in net and p in (None, port) for net, p in self.networks)


def allowed_hosts(entries: Iterable[str]) -> list[str]:
    """PROVIDER_ALLOWED_HOSTS' entries, checked (config/settings.py calls this at start).

    Raises ImproperlyConfigured naming the variable and the first malformed entry.
    """
    cleaned = [entry.strip() for entry in entries if entry.strip()]
    _allowed(tuple(cleaned))
    return cleaned


def check_provider_url(url: str, *, max_age: float = 0.0) -> None:
    """Return if requests may be sent to `url`; raise ProviderUrlRefused (a ValueError) if not.

    Refused: a scheme other than http(s), a user name or password, a host with characters URL
    parsers may read differently, and a host that resolves to any address that is not globally
    routable (loopback, private, link-local, multicast, reserved, unspecified, shared...) and not
    allowed by PROVIDER_ALLOWED_HOSTS. ProviderUrlUnresolvable when the host does not resolve.
    With `max_age` > 0, a decision about the same host and port made within that many seconds
    is reused (requests go out from threads, a batch to one provider needs one lookup); a host
    that did not resolve is looked up again every time.
    """
    host, port = _target(url)
    configured = getattr(settings, SETTING, [])
    entries = tuple(configured.split(",") if isinstance(configured, str) else configured)
    key = (host, port, entries)
    if max_age > 0 and (seen := _decided.get(key)) and seen[0] > time.monotonic():
        if seen[1]:
            raise ProviderUrlRefused(seen[1])
        return
    reason = _decide(host, port, _allowed(tuple(e.strip() for e in entries if e.strip())))
    if max_age > 0:
        if len(_decided) > 1024:  # one entry per provider host: only a flood of hosts gets here
            _decided.clear()
        _decided[key] = (time.monotonic() + max_age, reason)
    if reason:
        raise ProviderUrlRefused(reason)


# (host, port, allow-list) -> (valid until, refusal reason or ""). Plain dict operations are
# atomic, so the sending threads share it without a lock; a race costs one extra lookup.
_decided: dict[tuple, tuple[float, str]] = {}


@lru_cache(maxsize=1024)
def _target(url: str) -> tuple[str, int]:
    """The host (lower case, no trailing dot, IPv6 without brackets) and port `url` would reach
    (kept per URL: a batch's requests share theirs; a refusal is raised again, not kept)."""
    if not isinstance(url, str) or not url:
        raise ProviderUrlRefused("is empty")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise ProviderUrlRefused("must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed or invalid [IPv6] host
        raise ProviderUrlRefused("is not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise ProviderUrlRefused("must start with https:// or http://")
    if "@" in parts.netloc:
        raise ProviderUrlRefused("must not contain a user name or password")
    if not parts.netloc:
        raise ProviderUrlRefused("names no host")
    if not NETLOC.fullmatch(parts.netloc):
        raise ProviderUrlRefused("must name its host in ASCII letters, digits, dots and dashes")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        raise ProviderUrlRefused("names no host")
    try:
        port = parts.port
    except ValueError:
        port = 0
    if port == 0:
        raise ProviderUrlRefused("has an invalid port")
    return host, port or DEFAULT_PORTS[scheme]


def _decide(host: str, port: int, allowed: Allowed) -> str:
    """Why `host`:`port` is refused, or "" when requests may go there."""
    if allowed.name(host, port):
        return ""
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):  # gaierror; an over-long label fails IDNA encoding
        found = []
    if not found:
        raise ProviderUrlUnresolvable(f"{host} does not resolve")
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        literal = None
    for *_, sockaddr in found:
        raw = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])  # no IPv6 zone
        address = _embedded(raw)
        if allowed.address(raw, port) or allowed.address(address, port):
            continue
        if what := _not_public(raw):
            shown = str(raw) if address == raw else f"{raw} ({address})"
            subject = shown if literal == raw else f"{host} resolves to {shown}, which"
            return f"{subject} is {what}: {HINT}"
    return ""


def _embedded(address: Address) -> Address:
    """The IPv4 address an IPv4-mapped (::ffff:a.b.c.d) or NAT64 IPv6 address really reaches."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def _not_public(address: Address) -> str:
    """ "" for a globally routable address; else what it is, in words."""
    inner = _embedded(address)
    if inner != address:
        return _not_public(inner)
    six_to_four = address.sixtofour if isinstance(address, ipaddress.IPv6Address) else None
    if six_to_four and (what := _not_public(six_to_four)):  # 2002::/16 carries an IPv4 address too
        return f"{what} (6to4)"
    for attribute, what in KINDS:
        if getattr(address, attribute):
            return what
    return "" if address.is_global else "not a globally routable address"


@lru_cache(maxsize=16)
def _allowed(entries: tuple[str, ...]) -> Allowed:
    names: set[tuple[str, int | None]] = set()
    networks: list[tuple[Network, int | None]] = []
    for entry in entries:
        parsed = _entry(entry.lower())
        if parsed is None:
            raise ImproperlyConfigured(
                f"{SETTING}: {entry!r} is not a host name, an IP address or a CIDR network, with an "
                "optional :port (e.g. localhost, 127.0.0.1:8123, [::1]:8123, 10.0.0.0/8)"
            )
        target, port = parsed
        if isinstance(target, str):
            names.add((target, port))
        else:
            networks.append((target, port))
    return Allowed(frozenset(names), tuple(networks))


def _entry(text: str) -> tuple[str | Network, int | None] | None:
    """One allow-list entry as (name or network, port or None); None when malformed."""
    try:
        return ipaddress.ip_network(text), None  # 10.0.0.0/8, 127.0.0.1, ::1
    except ValueError:
        if "/" in text:
            return None
    host, port = text, None
    if text.startswith("["):  # [::1] or [::1]:8123
        host, close, rest = text[1:].partition("]")
        if not close or (rest and not rest.startswith(":")):
            return None
        port = _port(rest[1:]) if rest else None
        try:
            return ipaddress.ip_network(ipaddress.IPv6Address(host)), port
        except ValueError:
            return None
    if text.count(":") == 1:
        host, _, digits = text.partition(":")
        if (port := _port(digits)) is None:
            return None
    try:
        return ipaddress.ip_network(ipaddress.IPv4Address(host)), port  # 127.0.0.1:8123
    except ValueError:
        pass
    host = host.rstrip(".")
    return (host, port) if NAME.fullmatch(host) else None


def _port(digits: str) -> int | None:
    return int(digits) if digits.isdigit() and 0 < int(digits) < 65536 else None
