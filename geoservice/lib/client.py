"""Who is on the other end of a request: the client's address, also behind proxies.

Behind a TLS-terminating proxy or load balancer every request comes from the proxy's
address, so rate limits, login throttling and the anonymous idempotency scope would treat
all citizens as one client. With TRUSTED_PROXIES set (addresses or networks of the proxies
in front of OS2geo), the client is the right-most address in X-Forwarded-For that is not a
trusted proxy: what the nearest untrusted hop said, which a client cannot forge (anything a
client writes into the header itself lies further left).
"""

from __future__ import annotations

import ipaddress
from functools import cache

from django.conf import settings
from django.http import HttpRequest


@cache
def _trusted() -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in settings.TRUSTED_PROXIES)


def _is_trusted(address: str) -> bool:
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in network for network in _trusted())


def client_address(request: HttpRequest) -> str:
    """The client's IP address (see the module docstring); "unknown" if there is none."""
    remote = request.META.get("REMOTE_ADDR") or ""
    if remote and _is_trusted(remote):
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        for hop in reversed([h for h in hops if h]):
            if not _is_trusted(hop):
                try:
                    return str(ipaddress.ip_address(hop))
                except ValueError:
                    break  # garbage from an untrusted hop: fall back to the proxy
    return remote or "unknown"
