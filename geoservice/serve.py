"""Run daphne with TCP_NODELAY on every connection: `python -m geoservice.serve [daphne args]`.

Daphne (Twisted) writes a response's headers and body as separate small writes. With Nagle's
algorithm on, the body waits for the client's ACK of the headers, and Linux delays that ACK
by 40 ms: every small API response took 40 ms longer (measured with benchmarks/bbox.py:
45 ms instead of 4 ms for 100 features). Daphne has no option for it, so this entry point
swaps in an HTTP factory that turns Nagle off; the command line is daphne's own.
"""

from __future__ import annotations

import sys

from daphne import server as daphne_server
from daphne.cli import CommandLineInterface
from daphne.http_protocol import HTTPFactory


class NoDelayHTTPFactory(HTTPFactory):
    def buildProtocol(self, addr):
        protocol = super().buildProtocol(addr)
        if protocol is None:
            return None
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
