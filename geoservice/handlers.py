"""Django's ASGI handler, with each request's sync work done in one trip to a thread.

Django's own ASGIHandler starts a new thread for every request (ThreadSensitiveContext)
and runs each of the built-in middleware in async mode, which moves every middleware's
request and response halves to that thread and back: about 20 thread hops plus a thread
start and join per request. Measured in-process: 12.7 ms for /api/v1/health against
3 ms through Django's test client; benchmarks/tiles.py saw it as a fixed 13 ms on every
small tile. Our views and middleware are all sync, so this handler runs the request's
signals, the sync middleware chain, the view and the response's close in one call on a
pooled thread. Streaming responses (CSV export) keep Django's way of sending: their
iterator is read chunk by chunk. Websockets are untouched (Channels' consumers).

Request bodies are counted while they arrive and refused with 413 as soon as they pass their
limit (geoservice.lib.bodies), chunked ones included: Django's own handler spools the whole
body to disk first, and its size check trusts Content-Length, which a chunked body lacks.
"""

from __future__ import annotations

import tempfile

from asgiref.sync import sync_to_async
from django.conf import settings
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse, HttpRequest
from django.urls import set_script_prefix

from geoservice.errors import PayloadTooLarge, render_error
from geoservice.lib.bodies import body_limit


class BodyTooLarge(Exception):
    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def _header(scope, name: bytes) -> str:
    for key, value in scope.get("headers", ()):
        if key.lower() == name:
            return value.decode("latin-1")
    return ""


class OneHopASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self.load_middleware(is_async=False)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            raise ValueError(f"Django serves HTTP here, not {scope['type']}.")
        await self.handle(scope, receive, send)

    def _respond(self, scope, body_file):
        """Everything sync for one request, in the calling thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        request, response = self.create_request(scope, body_file)
        if request is not None:
            response = self.get_response(request)  # sync middleware chain and view
            response._handler_class = self.__class__
            if isinstance(response, FileResponse):
                response.block_size = self.chunk_size
        if not response.streaming:
            # Renders nothing more; closing fires request_finished (database connections
            # go back to the pool) in this same thread.
            response.close()
        return response

    async def read_body(self, receive, limit: int | None = None):
        """The body, refused with BodyTooLarge as soon as it passes `limit` bytes."""
        body_file = tempfile.SpooledTemporaryFile(  # noqa: SIM115 (closed by handle())
            max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE, mode="w+b")
        size = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                body_file.close()
                raise RequestAborted()
            chunk = message.get("body", b"")
            size += len(chunk)
            if limit is not None and size > limit:
                body_file.close()
                raise BodyTooLarge(limit)
            if chunk:
                if getattr(body_file, "_rolled", False):
                    await sync_to_async(body_file.write, thread_sensitive=False)(chunk)
                else:
                    body_file.write(chunk)
            if not message.get("more_body", False):
                break
        body_file.seek(0)
        return body_file

    async def handle(self, scope, receive, send):
        limit = body_limit(scope.get("path", ""), _header(scope, b"content-type"))
        declared = _header(scope, b"content-length")
        try:
            if declared.isdigit() and int(declared) > limit:
                raise BodyTooLarge(limit)
            body_file = await self.read_body(receive, limit)
        except RequestAborted:  # the client went away while sending
            return
        except BodyTooLarge as exc:
            await self._too_large(scope, send, exc.limit)
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=False)(
                scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=False)()
        finally:
            body_file.close()


    async def _too_large(self, scope, send, limit: int) -> None:
        """413 in the route's own format; the connection closes (the rest of the body is
        never read)."""
        request = HttpRequest()
        request.path = scope.get("path", "")
        response = render_error(request, PayloadTooLarge(
            f"The request body is larger than {limit} bytes."))
        response["Connection"] = "close"
        await self.send_response(response, send)


def get_asgi_application() -> OneHopASGIHandler:
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
