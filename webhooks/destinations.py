"""Where a webhook may go (SSRF guard): http(s) only, to hosts the operator allows, and never to loopback,
private, link-local or otherwise non-public addresses unless a development setting allows it.

The name is checked when an endpoint is registered; the addresses it resolves to are checked again before every
delivery, because a name that was public yesterday can point inside the network today, and the delivery connects
to the address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

# getaddrinfo cannot be cancelled: look-ups run on a few threads of their own and are waited for a bounded time, so
# a stalled resolver holds at most these threads, never the activities' pool.
_RESOLVER = ThreadPoolExecutor(max_workers=4, thread_name_prefix="webhook-dns")
_LOOK_UP_SECONDS = 5.0


class UnsafeDestination(ValueError):
    """The URL points somewhere we do not send webhooks."""


def check_url(url: str, allowed_hosts: list[str], allow_private: bool) -> str:
    """Refuses a URL by its form (scheme, allowed host, a literal private address); returns its host."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise UnsafeDestination("only http(s) URLs with a host are allowed")
    if not any(_host_matches(host, pattern.lower()) for pattern in allowed_hosts):
        raise UnsafeDestination(f"the host '{host}' is not among the hosts this service may call")
    literal = _as_address(host)
    if literal is not None and not allow_private:
        _refuse_non_public(literal)
    if host == "localhost" or host.endswith(".localhost"):
        if not allow_private:
            raise UnsafeDestination("loopback hosts are not allowed")
    return host


def check_resolved(url: str, allowed_hosts: list[str], allow_private: bool, within: float = _LOOK_UP_SECONDS) -> str:
    """`check_url`, then every address the host resolves to now must be public; returns the address to connect
    to, so the request goes where the check looked (a second look-up could answer otherwise: DNS rebinding)."""
    host = check_url(url, allowed_hosts, allow_private)
    port = urlsplit(url).port or (443 if url.startswith("https") else 80)
    try:
        resolved = _RESOLVER.submit(socket.getaddrinfo, host, port, type=socket.SOCK_STREAM).result(timeout=within)
    except socket.gaierror as error:
        raise UnsafeDestination(f"the host '{host}' does not resolve ({error.strerror})") from error
    except TimeoutError:
        raise UnsafeDestination(f"the host '{host}' did not resolve within {within:g} s") from None
    addresses = [ipaddress.ip_address(address[0]) for _family, _type, _proto, _name, address in resolved]
    if not allow_private:
        for address in addresses:
            _refuse_non_public(address)
    return str(addresses[0])


def _refuse_non_public(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> None:
    for checked in (address, *_embedded_ipv4(address)):
        if not checked.is_global or checked.is_multicast or getattr(checked, "is_site_local", False):
            raise UnsafeDestination(f"{address} is not a public address")


# IPv6 forms that carry an IPv4 address in their last 32 bits and reach it through a translator or a tunnel:
# NAT64 (well-known and local-use prefixes), IPv4-compatible (deprecated) and SIIT.
_IPV4_IN_LAST_32_BITS = [ipaddress.ip_network(network)
                         for network in ("64:ff9b::/96", "64:ff9b:1::/48", "::/96", "::ffff:0:0:0/96")]


def _embedded_ipv4(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to (mapped, 6to4, Teredo, NAT64, ...): each is judged too, so
    `64:ff9b::a00:5` is refused as 10.0.0.5 is."""
    if address.version == 4:
        return []
    embedded = [address.ipv4_mapped, address.sixtofour, *(address.teredo or ())]
    if any(address in network for network in _IPV4_IN_LAST_32_BITS):
        embedded.append(ipaddress.IPv4Address(int(address) & 0xFFFFFFFF))
    return [found for found in embedded if found is not None]


def _as_address(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _host_matches(host: str, pattern: str) -> bool:
    if pattern == "*":
        return True
    if pattern.startswith("*."):
        return host.endswith(pattern[1:])
    return host == pattern
