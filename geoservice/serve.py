"""Serve OS2geo over HTTP and websockets: `python -m geoservice.serve [-b HOST] [-p PORT]
[--workers N] geoservice.asgi:application`.

The server is uvicorn (httptools and uvloop) unless WEB_SERVER=daphne: on the same endpoint
and the same bytes, uvicorn answered in 0.93 ms against daphne's 1.77 ms and served 1.6x
the requests (benchmarks/servers.py). Uvicorn (asyncio) turns Nagle's algorithm off on
every TCP connection itself. Body limits are the ASGI handler's (geoservice.handlers), which
refuses a declared or counted body over its route's limit while it arrives. Uvicorn is told
not to read X-Forwarded-For (geoservice.lib.client does, for TRUSTED_PROXIES only) and
sends no Server header.

With WEB_SERVER=daphne, this entry point runs daphne with TCP_NODELAY on every connection
and a body limit at the protocol level; the command line is daphne's own:

Daphne (Twisted) writes a response's headers and body as separate small writes. With Nagle's
algorithm on, the body waits for the client's ACK of the headers, and Linux delays that ACK
by 40 ms: every small API response took 40 ms longer (measured with benchmarks/bbox.py:
45 ms instead of 4 ms for 100 features). Daphne has no option for it, so this entry point
swaps in an HTTP factory that turns Nagle off; the command line is daphne's own.

Daphne (Twisted) also reads a whole request body, to a temporary file, before the
application sees any of it. Its requests here refuse a body over API_MAX_UPLOAD_BYTES (the
most any route accepts) as soon as it is declared or has arrived, with 413 and a closed
connection; the per-route limits are the ASGI handler's (geoservice.handlers).

`--workers N` serves on N processes: this process binds the address once, and N server
processes accept connections on that one socket (the kernel hands each connection to one of
them), each restarted if it dies (geoservice.supervise). Websockets on different processes
hear the same events only through Redis, so more than one worker needs REDIS_URL.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest

from geoservice import supervise


class BodyLimitedWebRequest(WebRequest):
    def gotLength(self, length):
        self.body_seen = 0
        self.body_refused = False
        super().gotLength(length)
        if length is not None and length > _max_body():
            self._refuse()

    def handleContentChunk(self, data):
        if self.body_refused:
            return
        self.body_seen += len(data)
        if self.body_seen > _max_body():
            self._refuse()
            return
        super().handleContentChunk(data)

    def _refuse(self) -> None:
        """413 in the route's format, written straight to the connection, which closes."""
        from django.http import HttpRequest

        from geoservice.errors import PayloadTooLarge, render_error

        self.body_refused = True
        request = HttpRequest()
        request.path = (getattr(self.channel, "_path", b"") or b"").split(b"?")[0].decode(
            "latin-1")
        response = render_error(request, PayloadTooLarge(
            f"The request body is larger than {_max_body()} bytes."))
        head = (f"HTTP/1.1 413 Payload Too Large\r\nContent-Type: {response['Content-Type']}"
                f"\r\nContent-Length: {len(response.content)}\r\nConnection: close\r\n\r\n")
        self.channel.transport.write(head.encode("latin-1") + response.content)
        self.channel.transport.loseConnection()


def _max_body() -> int:
    from django.conf import settings

    return settings.API_MAX_UPLOAD_BYTES


class NoDelayHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        if protocol is None:
            return None
        protocol.requestFactory = BodyLimitedWebRequest
        connection_made = protocol.connectionMade

        def connectionMade():
            connection_made()
            set_no_delay = getattr(protocol.transport, "setTcpNoDelay", None)
            if set_no_delay is not None:  # Unix sockets have no Nagle to turn off
                set_no_delay(True)

        protocol.connectionMade = connectionMade
        return protocol


def _own_options() -> argparse.ArgumentParser:
    """A parser for the options this module reads; the rest of argv is daphne's."""
    return argparse.ArgumentParser(prog="geoservice.serve", add_help=False, allow_abbrev=False)


def serve_workers(workers: int, argv: list[str]) -> int:
    """Bind once, then run `workers` server processes on the inherited socket."""
    if not os.environ.get("REDIS_URL"):
        raise SystemExit("--workers above 1 needs REDIS_URL: without Redis, a change made on "
                         "one process never reaches the websockets of another.")
    parser = _own_options()
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    address, argv = parser.parse_known_args(argv)
    host, port = address.bind, address.port
    if ":" in host:  # daphne's --fd adopts IPv4 sockets only (uvicorn's: any)
        raise SystemExit("--workers above 1 serves on an IPv4 address (-b 0.0.0.0 or "
                         "127.0.0.1); a proxy in front can take IPv6.")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind((host, port))
    listener.listen(1024)
    listener.set_inheritable(True)
    command = [sys.executable, "-m", "geoservice.serve", "--workers", "1",
               "--fd", str(listener.fileno()), *argv]
    children = [supervise.Child(f"web-{number}", command, pass_fds=(listener.fileno(),))
                for number in range(1, workers + 1)]
    supervise.say(f"Serving on {host}:{port} with {workers} web processes")
    return supervise.run(children)


def server_name() -> str:
    name = os.environ.get("WEB_SERVER", "uvicorn").strip().lower()
    if name not in ("uvicorn", "daphne"):
        raise SystemExit(f"WEB_SERVER is uvicorn or daphne, not {name!r}")
    return name


# Seconds a stopping process gives open connections (websockets too) before it closes them:
# a supervisor restarting it, or an orchestrator replacing it, should not wait on a map.
GRACEFUL_SHUTDOWN_SECONDS = 3


def serve_uvicorn(argv: list[str]) -> None:
    import importlib.util

    import uvicorn

    parser = argparse.ArgumentParser(prog="geoservice.serve")
    parser.add_argument("-b", "--bind", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=8000)
    parser.add_argument("--fd", type=int, default=None, help="serve on this inherited socket")
    parser.add_argument("application")
    options = parser.parse_args(argv)
    fast = bool(importlib.util.find_spec("uvloop") and importlib.util.find_spec("httptools"))
    config = uvicorn.Config(
        options.application, host=options.bind, port=options.port,
        loop="uvloop" if fast else "auto", http="httptools" if fast else "auto",
        lifespan="off", proxy_headers=False, server_header=False, access_log=False,
        log_config=None, timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS)
    server = uvicorn.Server(config)
    if options.fd is None:
        server.run()
    else:
        # socket.socket(fileno=…) reads the family from the descriptor (uvicorn's own --fd
        # takes every inherited socket for a Unix one: no TCP_NODELAY, unreadable peers).
        server.run(sockets=[socket.socket(fileno=options.fd)])


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = _own_options()
    parser.add_argument("--workers", type=int, default=1)
    options, argv = parser.parse_known_args(argv)
    workers = options.workers
    if workers < 1:
        raise SystemExit(f"--workers takes a number of processes, 1 or more, not {workers}")
    if workers > 1:
        sys.exit(serve_workers(workers, argv))
    if server_name() == "uvicorn":
        serve_uvicorn(argv)
        return
    daphne_server.HTTPFactory = NoDelayHTTPFactory
    CommandLineInterface().run(argv)


if __name__ == "__main__":
    main()
