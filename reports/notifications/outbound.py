"""Outbound HTTP to back-office systems (webhooks, Open311 destinations), safe to point at
any URL an admin types.

- No private targets: a URL whose host resolves to a loopback, private, link-local,
  multicast or reserved address is refused (OutboundRefused, not retried), unless the
  operator allows it (WEBHOOK_ALLOW_PRIVATE_NETWORKS, e.g. for a receiver on the same
  host). The connection goes to the address that was checked, so DNS cannot answer
  differently between the check and the connect.
- No redirects: a 3xx is a failed attempt, never followed.
- A total deadline (WEBHOOK_TIMEOUT_SECONDS) for connect, send and answer together: an
  endpoint that trickles its answer a byte at a time cannot hold a worker for longer.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import socket
import ssl
import threading
from urllib.parse import urlsplit

from django.conf import settings


class OutboundRefused(Exception):
    """The target may not be called at all (retrying cannot help)."""


class OutboundFailed(Exception):
    def __init__(self, message: str, status: int | None = None, *, body: bytes = b""):
        super().__init__(message)
        self.status = status
        self.body = body


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%")[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return not (ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_multicast
                or ip.is_reserved or ip.is_unspecified)


def check_target(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, address to connect to) for a URL that may be called; raises
    OutboundRefused otherwise."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise OutboundRefused(f"Only http(s) URLs with a host can be called: {url!r}.")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise OutboundFailed(f"Cannot resolve {parts.hostname}: {exc}") from exc
    addresses = [str(info[4][0]) for info in infos]
    if not settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS and not all(map(_is_public, addresses)):
        raise OutboundRefused(
            f"{parts.hostname} resolves to a private or local address ({addresses[0]}); "
            "set WEBHOOK_ALLOW_PRIVATE_NETWORKS=1 to allow such targets.")
    return parts.scheme, parts.hostname, port, addresses[0]


class _PinnedHTTPConnection(http.client.HTTPConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        super().__init__(host, port, timeout=timeout)
        self.address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    def __init__(self, host: str, port: int, address: str, timeout: float):
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


# The most of an answer that is read: a back office's JSON page, never an endless stream.
MAX_ANSWER_BYTES = 4 * 1024 * 1024


def post(url: str, body: bytes, headers: dict[str, str]) -> int:
    """POST `body` and return the status of a 2xx answer; OutboundFailed for anything else
    (an HTTP error, a redirect, a network error, the deadline), OutboundRefused for a target
    that may not be called."""
    return call("POST", url, body, headers, read=65536)[0]


def call(method: str, url: str, body: bytes | None, headers: dict[str, str], *,
         read: int = MAX_ANSWER_BYTES) -> tuple[int, bytes]:
    """(status, at most `read` bytes of the body) of a 2xx answer, with the rules above;
    an error answer's body is on OutboundFailed.body (an Open311 error list, say)."""
    scheme, host, port, address = check_target(url)
    deadline = settings.WEBHOOK_TIMEOUT_SECONDS
    cls = _PinnedHTTPSConnection if scheme == "https" else _PinnedHTTPConnection
    conn = cls(host, port, address, timeout=deadline)
    parts = urlsplit(url)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    expired = threading.Event()

    def cut_off() -> None:
        expired.set()
        if conn.sock is not None:
            with contextlib.suppress(OSError):
                conn.sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(deadline, cut_off)
    timer.daemon = True
    timer.start()
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        answer = response.read(read)
        status = response.status
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set():
            raise OutboundFailed(f"No complete answer within {deadline} s.") from exc
        raise OutboundFailed(f"{type(exc).__name__}: {exc}") from exc
    finally:
        timer.cancel()
        conn.close()
    if expired.is_set():
        raise OutboundFailed(f"No complete answer within {deadline} s.")
    if 300 <= status < 400:
        raise OutboundFailed(f"HTTP {status}: redirects are not followed.", status)
    if status >= 400:
        raise OutboundFailed(f"HTTP {status}", status, body=answer)
    return status, answer
