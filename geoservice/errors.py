"""Application errors and the one place where they become HTTP responses.

Services raise these; the REST API turns them into
`{"message": ..., "errors": {field: [...]}}` with the error's status code.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response


class ApplicationError(Exception):
    """A request the service understood but refuses; `errors` maps field names to messages."""

    status_code = status.HTTP_400_BAD_REQUEST
    default_message = "The request is invalid."

    def __init__(self, message: str | None = None, errors: dict[str, list[str]] | None = None):
        self.message = message or self.default_message
        self.errors = errors or {}
        super().__init__(self.message)


class InvalidInput(ApplicationError):
    default_message = "Some fields are invalid."


class OutsideServiceArea(ApplicationError):
    default_message = "The location is outside every municipality served here."

    def __init__(self, message: str, nearest_code: str | None = None):
        super().__init__(message, {"location": [message]})
        self.nearest_code = nearest_code


class UnknownCategory(ApplicationError):
    default_message = "The category is not offered at this location."


class InvalidTransition(ApplicationError):
    status_code = status.HTTP_409_CONFLICT
    default_message = "The report cannot change to that status."


class StaleVersion(InvalidTransition):
    """A change based on an older copy of the report than the stored one."""

    default_message = "The report changed meanwhile."

    @classmethod
    def check(cls, report, expected_version: int | None) -> None:
        """Raise unless `expected_version` is None or the report's current version."""
        if expected_version is not None and expected_version != report.version:
            raise cls(f"The report changed meanwhile (version {report.version}, you had "
                      f"{expected_version}). Reload it and try again.",
                      {"version": [f"Current version is {report.version}."]})


class NotFound(ApplicationError):
    status_code = status.HTTP_404_NOT_FOUND
    default_message = "Not found."


class PayloadTooLarge(ApplicationError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_message = "The request body is too large."


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


def api_exception_handler(exc, context) -> Response | None:
    """DRF exception handler: every API error has the same JSON shape."""
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.message, exc.errors), status=exc.status_code)
    if isinstance(exc, Http404):
        return Response(error_body("Not found."), status=404)
    if isinstance(exc, PermissionDenied):
        return Response(error_body("You do not have permission to do this."), status=403)
    if isinstance(exc, drf_exceptions.ValidationError):
        return Response(error_body("Some fields are invalid.", _flatten(exc.detail)), status=400)
    if isinstance(exc, drf_exceptions.APIException):
        detail = exc.detail
        message = str(detail) if not isinstance(detail, (dict, list)) else "Request refused."
        errors = _flatten(detail) if isinstance(detail, (dict, list)) else {}
        response = Response(error_body(message, errors), status=exc.status_code)
        if getattr(exc, "wait", None):
            response["Retry-After"] = str(int(exc.wait))
        return response
    return None
