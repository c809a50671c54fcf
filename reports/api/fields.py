"""Strict input fields for the REST API."""

from __future__ import annotations

import datetime as dt
import math

from django.contrib.gis.geos import Point
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from geoservice.lib.dates import parse_iso_datetime
from maps.geo import valid_lon_lat


def _number(value, what: str) -> float:
    # bool is an int subclass: `true` is not a coordinate.
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise serializers.ValidationError(f"{what} must be a number.")
    value = float(value)
    if not math.isfinite(value):
        raise serializers.ValidationError(f"{what} must be a finite number.")
    return value


def checked_point(lon: float, lat: float) -> Point:
    if not valid_lon_lat(lon, lat):
        raise serializers.ValidationError(
            "Longitude must lie in [-180, 180] and latitude in [-90, 90] (GeoJSON order: "
            "[longitude, latitude])."
        )
    return Point(lon, lat, srid=4326)


@extend_schema_field({
    "type": "object", "required": ["type", "coordinates"],
    "properties": {"type": {"type": "string", "enum": ["Point"]},
                   "coordinates": {"type": "array", "items": {"type": "number"},
                                   "minItems": 2, "maxItems": 2}},
    "example": {"type": "Point", "coordinates": [12.3633, 55.73]},
})
class GeoJSONPointField(serializers.Field):
    """A GeoJSON Point ({"type": "Point", "coordinates": [lon, lat]}) in WGS84."""

    def to_internal_value(self, data) -> Point:
        if not isinstance(data, dict):
            raise serializers.ValidationError(
                'Expected a GeoJSON Point: {"type": "Point", "coordinates": [lon, lat]}.'
            )
        if data.get("type") != "Point":
            raise serializers.ValidationError('"type" must be "Point".')
        coordinates = data.get("coordinates")
        if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
            raise serializers.ValidationError('"coordinates" must be [longitude, latitude].')
        lon = _number(coordinates[0], "Longitude")
        lat = _number(coordinates[1], "Latitude")
        return checked_point(lon, lat)

    def to_representation(self, value: Point) -> dict:
        return {"type": "Point", "coordinates": [value.x, value.y]}


def parse_float(raw: str, what: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise serializers.ValidationError(f"{what} must be a number, got {raw!r}.") from None
    if not math.isfinite(value):
        raise serializers.ValidationError(f"{what} must be a finite number.")
    return value


class BBoxField(serializers.CharField):
    """`minlon,minlat,maxlon,maxlat` in WGS84. (These fields read text and return what it
    means; DRF's stubs type a CharField's value as text, hence the ignored overrides.)"""

    def to_internal_value(  # type: ignore[override]
            self, data) -> tuple[float, float, float, float]:
        parts = str(super().to_internal_value(data)).split(",")
        if len(parts) != 4:
            raise serializers.ValidationError("Use bbox=minlon,minlat,maxlon,maxlat.")
        min_lon, min_lat, max_lon, max_lat = (parse_float(p, "bbox value") for p in parts)
        checked_point(min_lon, min_lat)
        checked_point(max_lon, max_lat)
        if min_lon >= max_lon or min_lat >= max_lat:
            raise serializers.ValidationError("bbox minimums must be below its maximums.")
        return (min_lon, min_lat, max_lon, max_lat)


class LonLatField(serializers.CharField):
    """`lon,lat` in WGS84."""

    def to_internal_value(self, data) -> Point:  # type: ignore[override]
        parts = str(super().to_internal_value(data)).split(",")
        if len(parts) != 2:
            raise serializers.ValidationError("Use lon,lat.")
        return checked_point(parse_float(parts[0], "Longitude"), parse_float(parts[1], "Latitude"))


class CommaListField(serializers.CharField):
    def to_internal_value(self, data) -> list[str]:  # type: ignore[override]
        return [item.strip() for item in str(super().to_internal_value(data)).split(",")
                if item.strip()]


@extend_schema_field(OpenApiTypes.DATETIME)
class AwareDateTimeField(serializers.Field):
    """ISO 8601 date-time; a value without an offset is taken as UTC."""

    def to_internal_value(self, data) -> dt.datetime:
        value = parse_iso_datetime(str(data))
        if value is None:
            raise serializers.ValidationError(
                "Use an ISO 8601 date-time such as 2026-11-27T08:00:00Z."
            )
        return value


class StrictCharField(serializers.CharField):
    """A JSON string, nothing else: DRF's CharField would turn 42 or true into text."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)


class StrictEmailField(serializers.EmailField):
    def to_internal_value(self, data):
        if not isinstance(data, str):
            raise serializers.ValidationError("Must be a string.")
        return super().to_internal_value(data)
