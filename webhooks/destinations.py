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
    mapped = getattr(address, "ipv4_mapped", None)
    address = mapped or address
    if not address.is_global or address.is_multicast:
        raise UnsafeDestination(f"{address} is not a public address")


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
