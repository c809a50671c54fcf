"""A small GeoReport v2 client for destinations: form POSTs and JSON GETs through
reports.notifications.outbound (no private targets unless allowed, no redirects, a
deadline), with the other side's error list read into the failure."""

from __future__ import annotations

import json
from urllib.parse import urlencode

from reports.models import Destination
from reports.notifications import outbound

USER_AGENT = "OS2geo-open311/1"


class Open311Failed(Exception):
    """A call that did not work; `permanent` when sending the same again cannot help
    (the other side refused the request itself: a 4xx other than 408, 409 and 429)."""

    def __init__(self, message: str, status: int | None = None, *, permanent: bool = False):
        super().__init__(message)
        self.status = status
        self.permanent = permanent


def _descriptions(body: bytes) -> str:
    try:
        errors = json.loads(body)
    except ValueError:
        return body[:300].decode(errors="replace")
    if isinstance(errors, list):
        return "; ".join(str(e.get("description", e)) if isinstance(e, dict) else str(e)
                         for e in errors)[:1000]
    return str(errors)[:1000]


def _call(method: str, url: str, body: bytes | None, headers: dict[str, str]):
    try:
        _, answer = outbound.call(method, url, body, {"User-Agent": USER_AGENT,
                                                      "Accept": "application/json",
                                                      **headers})
    except outbound.OutboundRefused as exc:
        raise Open311Failed(str(exc), permanent=True) from exc
    except outbound.OutboundFailed as exc:
        status = exc.status
        permanent = status is not None and 400 <= status < 500 and status not in (408, 409,
                                                                                    429)
        detail = f": {_descriptions(exc.body)}" if exc.body else ""
        raise Open311Failed(f"{exc}{detail}", status, permanent=permanent) from exc
    try:
        return json.loads(answer)
    except ValueError as exc:
        raise Open311Failed(f"{url} did not answer JSON: {answer[:200]!r}") from exc


def _base(destination: Destination) -> dict[str, str]:
    return {"jurisdiction_id": destination.jurisdiction_id} if destination.jurisdiction_id \
        else {}


def post(destination: Destination, path: str, fields: dict[str, str], *,
         idempotency_key: str | None = None):
    """POST form `fields` (with the destination's jurisdiction and key) to `path`."""
    form = {**_base(destination), **({"api_key": destination.api_key}
                                     if destination.api_key else {}), **fields}
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    if idempotency_key:
        # Honoured by OS2geo and by servers that keep Idempotency-Keys: a retry after a
        # crash gets the first answer instead of making a second case.
        headers["Idempotency-Key"] = idempotency_key
    return _call("POST", destination.endpoint + path, urlencode(form).encode(), headers)


def get(destination: Destination, path: str, query: dict[str, str]):
    params = {**_base(destination), **({"api_key": destination.api_key}
                                       if destination.api_key else {}), **query}
    return _call("GET", f"{destination.endpoint}{path}?{urlencode(params)}", None, {})
