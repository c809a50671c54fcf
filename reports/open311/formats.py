"""Open311 GeoReport v2 output: JSON, and XML that strict parsers accept (UTF-8, no
whitespace around values, no attributes on data elements), and the spec's error shape."""

from __future__ import annotations

import datetime as dt
import json
import re
import xml.etree.ElementTree as ET

from django.http import HttpResponse
from django.utils import timezone

# The element name of the items of each list, as the GeoReport v2 examples spell them.
ITEM_TAGS = {
    "services": "service", "service_requests": "request", "attributes": "attribute",
    "values": "value", "endpoints": "endpoint", "formats": "format", "errors": "error",
    "notes": "note", "service_request_updates": "request_update", "photos": "photo",
    "answers": "answer",
}
# XML 1.0 forbids most control characters; they are dropped from values.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def iso(value: dt.datetime | None) -> str | None:
    """ISO 8601 with T and an offset, in the service's time zone, to the second."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_XML.sub("", str(value))


def _fill(element: ET.Element, value) -> None:
    if isinstance(value, dict):
        for key, sub in value.items():
            _fill(ET.SubElement(element, key), sub)
    elif isinstance(value, list):
        item_tag = ITEM_TAGS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, item_tag), item)
    else:
        element.text = _text(value)


def xml_document(root_tag: str, value) -> bytes:
    root = ET.Element(root_tag)
    _fill(root, value)
    return b'<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(root, encoding="utf-8")


def render(value, fmt: str, root_tag: str, status: int = 200) -> HttpResponse:
    if fmt == "xml":
        return HttpResponse(xml_document(root_tag, value), status=status,
                            content_type="text/xml; charset=utf-8")
    return HttpResponse(json.dumps(value, ensure_ascii=False), status=status,
                        content_type="application/json; charset=utf-8")


def render_errors(fmt: str, status: int, descriptions: list[str]) -> HttpResponse:
    errors = [{"code": status, "description": text} for text in descriptions]
    return render(errors, fmt, "errors", status)


def error_response(request, error) -> HttpResponse:
    """An application error on an Open311 route (geoservice.errors.render_error), in the
    format the route asked for: one description per field error, in the parameter names
    the client sent (a location error, which names the nearest municipality, as it is)."""
    fmt = "xml" if request.path.endswith(".xml") else "json"
    descriptions = [f"{_open311_field(field)}: {message}"
                    for field, messages in error.errors.items() for message in messages]
    if not descriptions or error.errors.get("location"):
        descriptions = [error.message]
    return render_errors(fmt, error.status_code, descriptions)


def _open311_field(field: str) -> str:
    """Our field names in the names an Open311 client sent."""
    if field.startswith("answers."):
        return f"attribute[{field.removeprefix('answers.')}]"
    return {"location": "lat/long", "category": "service_code", "photos": "media"}.get(
        field.split(".")[0], field)
