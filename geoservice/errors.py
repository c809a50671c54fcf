"""One error vocabulary, and the one function that turns an error into a response.

Every refusal the service makes is an ApplicationError: it carries its HTTP status, its
headers (Retry-After, …), a message and field errors. Services, access checks, the
idempotency layer and the APIs raise them; `render_error` renders one, and each surface only
chooses the shape: JSON (`{"message": …, "errors": {field: […]}}`) on the REST API, the
GeoReport v2 error list on Open311 routes (registered by reports.open311), a short page
elsewhere, and `error_frame` on websockets. The DRF exception handler, the middleware and
the Open311 views all end here.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import (
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.html import escape
from django.utils.translation import gettext
from rest_framework import exceptions as drf_exceptions


class ApplicationError(Exception):
    """A request the service understood but refuses; `errors` maps field names to messages."""

    status_code = 400
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, errors: dict[str, list[str]] | None = None):
        self.message = message or self.default_message
        self.errors = errors or {}
        super().__init__(self.message)

    @property
    def headers(self) -> dict[str, str]:
        """HTTP headers that go with the error (Retry-After, …)."""
        return {}


class _RetryLater(ApplicationError):
    """An error whose answer says when to try again."""

    def __init__(self, message: str | None = None, errors: dict | None = None, *,
                 retry_after: int = 1):
        super().__init__(message, errors)
        self.retry_after = retry_after

    @property
    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)}


class InvalidInput(ApplicationError):
    default_message = "Some fields are invalid."


class OutsideServiceArea(ApplicationError):
    default_message = "The location is outside every municipality served here."

    def __init__(self, message: str, nearest_code: str | None = None):
        super().__init__(message, {"location": [message]})
        self.nearest_code = nearest_code


class UnknownCategory(ApplicationError):
    default_message = "The category is not offered at this location."


class Forbidden(ApplicationError):
    status_code = 403
    default_message = "You may not do this."


class NotFound(ApplicationError):
    status_code = 404
    default_message = "Not found."


class MethodNotAllowed(ApplicationError):
    status_code = 405
    default_message = "This method is not allowed here."


class Conflict(ApplicationError):
    """The request clashes with the stored state (409)."""

    status_code = 409
    default_message = "The request clashes with the current state."


class InvalidTransition(Conflict):
    default_message = "The report cannot change to that status."


class StaleVersion(Conflict):
    """A change based on an older copy of the report than the stored one."""

    default_message = "The report changed meanwhile."

    @classmethod
    def check(cls, report, expected_version: int | None) -> None:
        """Raise unless `expected_version` is None or the report's current version."""
        if expected_version is not None and expected_version != report.version:
            raise cls(f"The report changed meanwhile (version {report.version}, you had "
                      f"{expected_version}). Reload it and try again.",
                      {"version": [f"Current version is {report.version}."]})


class StillRunning(_RetryLater, Conflict):
    """The same request (same Idempotency-Key) is being handled right now."""

    default_message = "A request with this Idempotency-Key is still being processed."


class PayloadTooLarge(ApplicationError):
    status_code = 413
    default_message = "The request body is too large."


class UnsupportedMediaType(ApplicationError):
    status_code = 415
    default_message = "This media type is not accepted."


class Unprocessable(ApplicationError):
    status_code = 422
    default_message = "The request cannot be processed."


class RateLimited(_RetryLater):
    status_code = 429
    default_message = "Too many requests."


class ServiceUnavailable(_RetryLater):
    """A dependency (the database, the photo decoder) cannot serve now."""

    status_code = 503
    default_message = "The service is briefly unavailable; try again shortly."

    def __init__(self, message: str | None = None, *, dependency: str, retry_after: int):
        super().__init__(message, retry_after=retry_after)
        self.dependency = dependency


def request_body_error(exc: Exception) -> ApplicationError | None:
    """Django's refusals while parsing a request body, as application errors (Django
    would answer them with a bare HTML 400 page)."""
    if isinstance(exc, TooManyFilesSent):
        return PayloadTooLarge(
            f"At most {settings.DATA_UPLOAD_MAX_NUMBER_FILES} files per request.",
            {"photo": ["Too many files."]})
    if isinstance(exc, RequestDataTooBig):
        return PayloadTooLarge("The request body is too large.")
    if isinstance(exc, TooManyFieldsSent):
        return InvalidInput("The request has too many fields.")
    return None


def as_application_error(exc: Exception) -> ApplicationError | None:
    """Django's and DRF's own refusals in the vocabulary; None for anything else (a bug,
    which stays a 500)."""
    if isinstance(exc, ApplicationError):
        return exc
    if isinstance(exc, Http404):
        return NotFound()
    if isinstance(exc, PermissionDenied):
        return Forbidden(str(exc) or None)
    if (body_error := request_body_error(exc)) is not None:
        return body_error
    if isinstance(exc, drf_exceptions.ValidationError):
        return InvalidInput("Some fields are invalid.", _flatten(exc.detail))
    if isinstance(exc, drf_exceptions.Throttled):
        return RateLimited(str(exc.detail), retry_after=int(getattr(exc, "wait", None) or 1))
    if isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail
        error = ApplicationError(
            str(detail) if not isinstance(detail, (dict, list)) else "Request refused.",
            _flatten(detail) if isinstance(detail, (dict, list)) else {})
        error.status_code = exc.status_code
        return error
    return None


def error_body(message: str, errors: dict | None = None) -> dict:
    return {"message": message, "errors": errors or {}}


def _flatten(detail) -> dict[str, list[str]]:
    """DRF error details (nested dicts/lists) → {dotted.field: [messages]}."""
    out: dict[str, list[str]] = {}

    def walk(prefix: str, value) -> None:
        if isinstance(value, dict):
            for key, sub in value.items():
                walk(f"{prefix}.{key}" if prefix else str(key), sub)
        elif isinstance(value, list):
            if all(not isinstance(item, (dict, list)) for item in value):
                out.setdefault(prefix or "non_field_errors", []).extend(str(v) for v in value)
            else:
                for index, sub in enumerate(value):
                    walk(f"{prefix}.{index}" if prefix else str(index), sub)
        else:
            out.setdefault(prefix or "non_field_errors", []).append(str(value))

    walk("", detail)
    return out


def api_exception_handler(exc, context) -> HttpResponse | None:
    """DRF's exception handler: the same one renderer as everywhere else."""
    error = as_application_error(exc)
    return render_error(context["request"], error) if error is not None else None


# --- one error, each surface's shape -------------------------------------------------------

Renderer = Callable[[HttpRequest, ApplicationError], HttpResponse]
_SURFACES: list[tuple[str, Renderer]] = []


def register_surface(path_prefix: str, renderer: Renderer) -> None:
    """Let an app render errors on its own routes in its own format (Open311's error list);
    the longest matching prefix wins."""
    _SURFACES.append((path_prefix, renderer))
    _SURFACES.sort(key=lambda item: len(item[0]), reverse=True)


def _json_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    return HttpResponse(json.dumps(error_body(error.message, error.errors)),
                        status=error.status_code, content_type="application/json")


def _html_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    title = gettext("OS2geo is briefly unavailable") if error.status_code == 503 \
        else gettext("Something went wrong")
    text = gettext("Please try again in a moment.") if error.status_code == 503 \
        else escape(error.message)
    body = (f'<!doctype html><html lang="{escape(getattr(request, "LANGUAGE_CODE", "da"))}">'
            f'<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
            f"<title>{escape(title)}</title></head><body><main><h1>{escape(title)}</h1>"
            f"<p>{text}</p></main></body></html>")
    return HttpResponse(body, status=error.status_code, content_type="text/html; charset=utf-8")


register_surface("/api/", _json_error)


def render_error(request: HttpRequest, error: ApplicationError) -> HttpResponse:
    """The one place an application error becomes a response: the route's surface picks
    the shape, the error gives status and headers."""
    renderer = next((r for prefix, r in _SURFACES if request.path.startswith(prefix)),
                    _html_error)
    response = renderer(request, error)
    for name, value in error.headers.items():
        response[name] = value
    return response


def error_frame(error: ApplicationError) -> dict:
    """An application error as a websocket frame (the socket stays open)."""
    frame: dict = {"type": "error", "message": error.message}
    if error.errors:
        frame["errors"] = error.errors
    return frame
