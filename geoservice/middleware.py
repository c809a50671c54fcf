"""Request guards shared by all apps."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.signals import got_request_exception
from django.db import InterfaceError, OperationalError
from django.dispatch import receiver

from geoservice.errors import (
    InvalidInput,
    PayloadTooLarge,
    ServiceUnavailable,
    render_error,
    request_body_error,
)
from geoservice.lib.bodies import body_limit

log = logging.getLogger(__name__)

# What a database that is down, restarting or failing over raises (a pool timeout included:
# Django wraps it as OperationalError).
DATABASE_OUTAGE = (OperationalError, InterfaceError)


@receiver(got_request_exception)
def _remember_outage(sender, request=None, **kwargs) -> None:
    """Note on the request that it failed because the database is unreachable. Django turns
    an exception into a 500 page where it happens (in a view or any middleware), so the
    outage middleware learns of it here rather than by catching it."""
    error = sys.exc_info()[1]
    if request is not None and isinstance(error, DATABASE_OUTAGE):
        request.database_outage = error


class DependencyOutageMiddleware:
    """While PostgreSQL is unreachable every route answers 503 with Retry-After, in its own
    format (JSON on the REST API, the spec's error list on Open311, a short page elsewhere),
    never a 500: a client can tell "try again" from "broken". First in MIDDLEWARE, so that
    it sees what every other middleware and the view did."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        outage = getattr(request, "database_outage", None)
        if outage is not None and response.status_code >= 500:
            return self._unavailable(request, outage)
        return response

    def process_exception(self, request, exception):
        """A view's database error: answered at once (Django would first build its error
        page, which may query again and wait for the pool again)."""
        if isinstance(exception, DATABASE_OUTAGE):
            return self._unavailable(request, exception)
        return None

    def _unavailable(self, request, error: Exception):
        log.warning("database unavailable, answering 503: %s", str(error).strip()[:300])
        return render_error(request, ServiceUnavailable(
            "The database is unavailable; try again shortly.", dependency="database",
            retry_after=settings.OUTAGE_RETRY_AFTER_SECONDS))


class ApiBodySizeLimitMiddleware:
    """Refuse bodies over the limit (geoservice.lib.bodies) with 413 before anything parses
    them, by their Content-Length. Under ASGI the handler (geoservice.handlers) has already
    counted the bytes as they came, chunked bodies included; this covers other entry points
    (WSGI, the test client). DRF reads the body from the stream, bypassing Django's
    DATA_UPLOAD_MAX_MEMORY_SIZE check."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit(request.path, request.META.get("CONTENT_TYPE", ""))
        if length > limit:
            return render_error(request, PayloadTooLarge(
                f"The request body is {length} bytes; the limit is {limit}."))
        return self.get_response(request)


class RejectNulMiddleware:
    """A NUL character in the path or a query or form parameter is a 400 on every route, in
    the route's own error format. PostgreSQL cannot store NUL in text; without this an
    Open311 parameter with %00 reached the database and gave a 500. (JSON bodies are the
    serializers' to check; DRF refuses NUL in every text field.) After the body size limit,
    so that a form body is only parsed once it is known to be small enough; Django's refusals
    while parsing it (too many files or fields) get the route's format here too, not a bare
    HTML 400."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        try:
            name = _nul_parameter(request)
        except (TooManyFilesSent, TooManyFieldsSent, RequestDataTooBig) as exc:
            return render_error(request, request_body_error(exc))
        if name is not None:
            return render_error(request, InvalidInput(
                "Parameters must not contain NUL characters.",
                {name: ["Remove the NUL (\\0) character."]}))
        return self.get_response(request)


def _nul_parameter(request) -> str | None:
    if "\x00" in request.path:
        return "path"
    sources = [request.GET]
    if request.method == "POST" and not request.content_type.startswith("application/json"):
        sources.append(request.POST)
    for params in sources:
        for key, values in params.lists():
            if "\x00" in key or any("\x00" in value for value in values):
                return key.replace("\x00", "") or "parameter"
    return None
