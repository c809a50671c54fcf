"""A real HTTP receiver for webhook tests: answers with scripted status codes (or hangs) and
records every request it got."""

from __future__ import annotations

import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@contextmanager
def webhook_receiver(script: list | None = None):
    """Yields (url, received). `script` is consumed per request: an int is the status to
    answer, ("hang", seconds) sleeps before answering 200; afterwards every answer is 200."""
    received: list[dict] = []
    plan = list(script or [])
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            with lock:
                step = plan.pop(0) if plan else 200
                received.append({"headers": dict(self.headers), "body": body, "answer": step})
            if isinstance(step, tuple):
                time.sleep(step[1])
                step = 200
            try:
                self.send_response(step)
                self.end_headers()
                self.wfile.write(b"ok")
            except BrokenPipeError:  # the worker gave up waiting (the timeout under test)
                pass

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()


def link_in(body: str, path: str) -> str:
    """The path of the first link in a mail body that contains `path`."""
    word = next(w for w in body.split() if path in w)
    return word[word.index(path):]
