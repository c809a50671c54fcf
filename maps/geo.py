"""Small geometry helpers shared by selectors, importers and APIs.

Distances in metres: OS2geo stores WGS84 (SRID 4326). A radius query first narrows by a
lon/lat envelope that contains the circle (so the GiST index on the geometry column is used)
and then checks the exact distance on the sphere (PostGIS ST_DistanceSphere, which Django
uses for `distance_lte` on geodetic point fields). At Danish latitudes the sphere differs
from the ellipsoid by well under 0.5 %, which is fine for "reports near me".
"""

from __future__ import annotations

import math

from django.contrib.gis.geos import MultiPolygon, Point, Polygon

EARTH_RADIUS_M = 6_371_008.8
# The largest radius any query takes (REST `near`, Open311 `radius`, feeds, alerts).
MAX_RADIUS_M = 50_000
METRES_PER_DEGREE_LAT = math.pi * EARTH_RADIUS_M / 180


def make_point(lon: float, lat: float) -> Point:
    """A WGS84 point; the caller has already checked the ranges."""
    return Point(float(lon), float(lat), srid=4326)


def valid_lon_lat(lon: float, lat: float) -> bool:
    return (
        math.isfinite(lon) and math.isfinite(lat) and -180 <= lon <= 180 and -90 <= lat <= 90
    )


def bbox_polygon(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Polygon:
    polygon = Polygon.from_bbox((min_lon, min_lat, max_lon, max_lat))
    polygon.srid = 4326
    return polygon


def metres_envelope(point: Point, radius_m: float) -> Polygon:
    """A lon/lat rectangle that contains every point within radius_m of `point`."""
    dlat = radius_m / METRES_PER_DEGREE_LAT
    cos_lat = max(math.cos(math.radians(min(abs(point.y) + dlat, 89.9))), 1e-6)
    dlon = min(radius_m / (METRES_PER_DEGREE_LAT * cos_lat), 180.0)
    return bbox_polygon(
        max(point.x - dlon, -180.0),
        max(point.y - dlat, -90.0),
        min(point.x + dlon, 180.0),
        min(point.y + dlat, 90.0),
    )


def haversine_m(a: Point, b: Point) -> float:
    """Great-circle distance in metres between two WGS84 points (same sphere as PostGIS)."""
    lon1, lat1, lon2, lat2 = map(math.radians, (a.x, a.y, b.x, b.y))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))


def simplified(geom: MultiPolygon, tolerance: float) -> MultiPolygon:
    """A MultiPolygon simplified by `tolerance` degrees, keeping its topology and type (a
    large tolerance can turn a MultiPolygon into a Polygon; it is wrapped again)."""
    result = geom.simplify(tolerance, preserve_topology=True)
    if isinstance(result, Polygon):
        result = MultiPolygon(result, srid=geom.srid)
    return result if isinstance(result, MultiPolygon) and not result.empty else geom
