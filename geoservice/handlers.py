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
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core import signals
from django.core.exceptions import RequestAborted
from django.core.handlers.asgi import ASGIHandler, get_script_prefix
from django.http import FileResponse
from django.urls import set_script_prefix


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

    async def handle(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:  # the client went away while sending
            return
        try:
            response = await sync_to_async(self._respond, thread_sensitive=False)(
                scope, body_file)
            await self.send_response(response, send)
            if response.streaming:
                await sync_to_async(response.close, thread_sensitive=False)()
        finally:
            body_file.close()


def get_asgi_application() -> OneHopASGIHandler:
    import django

    django.setup(set_prefix=False)
    return OneHopASGIHandler()
