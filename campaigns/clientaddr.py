"""The address of the client behind a request, as far as it can be trusted.

Rate limits (the dashboard login, the API) count per client, so the address must be one the
client cannot choose. REMOTE_ADDR is the peer of the TCP connection: the client itself, or our
own reverse proxy. Only when it is one of ours (settings.TRUSTED_PROXIES) do we read
X-Forwarded-For, and then from the right: each proxy appends the address it received the
request from, so the entries on the right were written by our proxies and everything to the
left of the first address that is not ours was written by the client and may be anything.
That first untrusted address from the right is the client; the left-most entry never is
(a client can send ``X-Forwarded-For: 1.2.3.4`` itself and our proxy only appends to it).

Note that gunicorn's ``--forwarded-allow-ips`` does not rewrite REMOTE_ADDR (it only trusts
X-Forwarded-Proto and the like): behind a proxy, list the proxy in TRUSTED_PROXIES.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from django.conf import settings
from django.http import HttpRequest

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# What a request is attributed to when even REMOTE_ADDR is no address (a UNIX socket peer).
UNKNOWN = "unknown"


def parse_address(text: str) -> IPAddress | None:
    """The address in one X-Forwarded-For entry or REMOTE_ADDR, or None if there is none.

    Accepts what proxies write: ``203.0.113.7``, ``2001:db8::1``, and with a port
    ``203.0.113.7:51000`` or ``[2001:db8::1]:51000``. An IPv4 address mapped into IPv6
    (``::ffff:203.0.113.7``, what a dual-stack socket reports) is returned as IPv4, so one
    client has one spelling.
    """
    text = text.strip()
    if text.startswith("["):  # [v6] or [v6]:port
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # v4:port (a bare IPv6 address has at least two colons)
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress, proxies: Iterable[IPNetwork]) -> bool:
    return any(address.version == network.version and address in network for network in proxies)


def client_address_from(remote_addr: str, forwarded_for: str, trusted_proxies: Iterable[IPNetwork]) -> str:
    """The client's address, given REMOTE_ADDR, X-Forwarded-For and our proxies. Pure.

    1. REMOTE_ADDR, unless it is a trusted proxy.
    2. Otherwise X-Forwarded-For from right to left: the first address that is not a trusted
       proxy is the client. An entry that is no address ends the walk: the client is then the
       last trusted hop before it, never something further left (which the client wrote).
    3. Every hop trusted (a request from inside, e.g. a health check): the left-most of them.

    Returns the canonical spelling (``str(ipaddress)``), or UNKNOWN when REMOTE_ADDR is not an
    address at all.
    """
    proxies = tuple(trusted_proxies)
    peer = parse_address(remote_addr)
    if peer is None:
        return UNKNOWN
    client = peer
    if _trusted(peer, proxies):
        for entry in reversed(forwarded_for.split(",")):
            hop = parse_address(entry)
            if hop is None:
                break
            client = hop
            if not _trusted(hop, proxies):
                break
    return str(client)


def client_address(request: HttpRequest) -> str:
    """The address of the client that sent `request` (see client_address_from)."""
    return client_address_from(
        request.META.get("REMOTE_ADDR", ""),
        request.META.get("HTTP_X_FORWARDED_FOR", ""),
        settings.TRUSTED_PROXIES,
    )


def address_block(address: str) -> str:
    """What to count a rate limit against for `address`: an IPv4 address itself, an IPv6 /64.

    One IPv6 host is routinely given a whole /64 and can pick any address in it, so counting
    single IPv6 addresses would give an attacker 2**64 fresh counters.
    """
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, 64), strict=False))
    return str(parsed) if parsed is not None else address
