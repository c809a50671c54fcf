"""Open311's form-style parameters, read into what the selectors and services take. A bad
parameter is an InvalidInput naming it (the Open311 surface renders it as the spec's error
list)."""

from __future__ import annotations

import datetime as dt
import math
import re

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.http import QueryDict
from django.utils import timezone

from geoservice.errors import InvalidInput, NotFound
from geoservice.lib.dates import parse_iso_datetime
from maps.geo import MAX_RADIUS_M, valid_lon_lat
from maps.selectors import AddressNotFound, address_named
from reports import selectors
from reports.lifecycle import CLOSED_STATUSES, OPEN_STATUSES
from reports.models import Municipality

DEFAULT_DAYS = 90  # requests without a date filter: the last 90 days
DEFAULT_RADIUS_M = 500.0
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
MAX_PAGE_SIZE = 1000


def bad(message: str) -> InvalidInput:
    return InvalidInput(message)


def number(params: QueryDict, name: str) -> float | None:
    raw = params.get(name)
    return None if raw in (None, "") else parse_number(str(raw), name)


def parse_number(raw: str, name: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise bad(f"{name} must be a number.") from None
    if not math.isfinite(value):
        raise bad(f"{name} must be a finite number.")
    return value


def datetime(params: QueryDict, name: str) -> dt.datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    value = parse_iso_datetime(raw)
    if value is None:
        raise bad(f"{name} must be an ISO 8601 date-time (2026-11-27T08:00:00Z).")
    return value


def whole(params: QueryDict, name: str, default: int, lowest: int, highest: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise bad(f"{name} must be a whole number from {lowest} to {highest}.")
    return int(raw)


def commas(params: QueryDict, name: str) -> list[str]:
    return [item.strip() for item in (params.get(name) or "").split(",") if item.strip()]


def jurisdiction(params: QueryDict) -> Municipality | None:
    """The municipality `jurisdiction_id` names; None without one."""
    code = (params.get("jurisdiction_id") or "").strip()
    if not code:
        return None
    served = selectors.served_municipalities()
    municipality = served.filter(code=code).first()
    if municipality is None:
        codes = ", ".join(served.values_list("code", flat=True))
        raise NotFound(f"Unknown jurisdiction_id {code!r}; served: {codes}.")
    return municipality


def required_jurisdiction(params: QueryDict) -> Municipality:
    """The municipality `jurisdiction_id` names; optional where only one is served."""
    municipality = jurisdiction(params)
    if municipality is not None:
        return municipality
    served = list(selectors.served_municipalities()[:2])
    if len(served) > 1:
        codes = ", ".join(selectors.served_municipalities().values_list("code", flat=True))
        raise bad(f"jurisdiction_id is required; one of: {codes}.")
    if not served:
        raise NotFound("No municipality is served here yet.")
    return served[0]


def request_filters(params: QueryDict, municipality: Municipality | None
                    ) -> selectors.ReportFilters:
    """GET requests' filters: ids, or service codes, dates, status, bbox, lat/long/radius."""
    filters = selectors.ReportFilters(
        municipality_codes=[municipality.code] if municipality else [])
    ids = commas(params, "service_request_id")
    if ids:
        if not all(i.isdigit() for i in ids):
            raise bad("service_request_id must be a comma-separated list of ids.")
        filters.ids = [int(i) for i in ids]
        return filters
    filters.categories = commas(params, "service_code")
    filters.created_after = datetime(params, "start_date")
    filters.created_before = datetime(params, "end_date")
    filters.updated_after = datetime(params, "updated_after")
    filters.updated_before = datetime(params, "updated_before")
    if not any((filters.created_after, filters.created_before, filters.updated_after,
                filters.updated_before)):
        filters.created_after = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
    statuses = commas(params, "status")
    if set(statuses) - {"open", "closed"}:
        raise bad("status must be open, closed or open,closed.")
    wanted: set[str] = set()
    if "open" in statuses:
        wanted |= OPEN_STATUSES
    if "closed" in statuses:
        wanted |= CLOSED_STATUSES
    filters.statuses = sorted(wanted)
    if params.get("bbox"):
        parts = str(params["bbox"]).split(",")
        if len(parts) != 4 or not all(p.strip() for p in parts):
            raise bad("bbox must be minlon,minlat,maxlon,maxlat.")
        box = [parse_number(p, "bbox") for p in parts]
        if not (valid_lon_lat(box[0], box[1]) and valid_lon_lat(box[2], box[3])
                and box[0] < box[2] and box[1] < box[3]):
            raise bad("bbox must be minlon,minlat,maxlon,maxlat in WGS84.")
        filters.bbox = (box[0], box[1], box[2], box[3])
    lat, lon = number(params, "lat"), number(params, "long")
    if (lat is None) != (lon is None):
        raise bad("Give both lat and long.")
    if lat is not None and lon is not None:
        if not valid_lon_lat(lon, lat):
            raise bad("lat/long are out of range.")
        radius = number(params, "radius") or DEFAULT_RADIUS_M
        if not 0 < radius <= MAX_RADIUS_M:
            raise bad(f"radius must be from 1 to {MAX_RADIUS_M} metres.")
        filters.near, filters.radius_m = Point(lon, lat, srid=4326), radius
    return filters


def answers(post: QueryDict) -> dict:
    """attribute[code]=value and attribute[code][]=value (multi-value) form fields."""
    found: dict[str, object] = {}
    for name in post:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", name)
        if match:
            values = post.getlist(name)
            found[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return found


def location(post: QueryDict) -> Point:
    """lat/long, or an address_string that names exactly one imported address."""
    lat, lon = number(post, "lat"), number(post, "long")
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise bad("Give both lat and long.")
        if not valid_lon_lat(lon, lat):
            raise bad("lat must lie in [-90, 90] and long in [-180, 180].")
        return Point(lon, lat, srid=4326)
    address = (post.get("address_string") or "").strip()
    if not address:
        raise bad("A location is required: lat and long, or address_string.")
    try:
        return address_named(address).location
    except AddressNotFound as exc:
        raise bad(f"address_string {exc}, or send lat and long.") from None


def email(post: QueryDict) -> str:
    value = post.get("email", "").strip()
    if len(value) > EMAIL_MAX_LENGTH:  # before any pattern sees it
        raise bad(f"email is longer than {EMAIL_MAX_LENGTH} characters.")
    if value:
        # Django's validator (a hand-written pattern here was quadratic on long input).
        try:
            validate_email(value)
        except ValidationError:
            raise bad("email is not a valid address.") from None
    return value


def media_url(post: QueryDict) -> str:
    value = post.get("media_url", "").strip()
    if value and not re.fullmatch(r"https?://\S+", value):
        raise bad("media_url must be an http(s) URL.")
    return value
