"""Run daphne with TCP_NODELAY on every connection and a body limit at the protocol level:
`python -m geoservice.serve [daphne args]`.

Daphne (Twisted) writes a response's headers and body as separate small writes. With Nagle's
algorithm on, the body waits for the client's ACK of the headers, and Linux delays that ACK
by 40 ms: every small API response took 40 ms longer (measured with benchmarks/bbox.py:
45 ms instead of 4 ms for 100 features). Daphne has no option for it, so this entry point
swaps in an HTTP factory that turns Nagle off; the command line is daphne's own.

Daphne (Twisted) also reads a whole request body, to a temporary file, before the
application sees any of it. Its requests here refuse a body over API_MAX_UPLOAD_BYTES (the
most any route accepts) as soon as it is declared or has arrived, with 413 and a closed
connection; the per-route limits are the ASGI handler's (geoservice.handlers).
"""

from __future__ import annotations

import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory, WebRequest


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


def main(argv: list[str] | None = None) -> None:
    daphne_server.HTTPFactory = NoDelayHTTPFactory
    CommandLineInterface().run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    main()
