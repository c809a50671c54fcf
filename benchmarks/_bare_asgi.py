"""The floor for benchmarks/servers.py: an ASGI app that answers every request with the bytes
and content type in BARE_BODY_FILE (the endpoint's own answer), doing nothing else."""

from __future__ import annotations

import os
from pathlib import Path

_path = Path(os.environ["BARE_BODY_FILE"])
BODY = _path.read_bytes()
HEADERS = [(b"content-type", os.environ.get("BARE_CONTENT_TYPE", "application/json").encode()),
           (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
