"""The geometry helpers on their own, without HTTP or a database."""

from __future__ import annotations

import math

import pytest
from django.contrib.gis.geos import MultiPolygon, Point
from hypothesis import given
from hypothesis import strategies as st

from maps.geo import (
    MAX_RADIUS_M,
    METRES_PER_DEGREE_LAT,
    bbox_polygon,
    haversine_m,
    make_point,
    metres_envelope,
    simplified,
    valid_lon_lat,
)
from tests.maps.factories import polygon


def destination(start: Point, bearing_deg: float, distance_m: float) -> Point:
    """The point `distance_m` from `start` along `bearing_deg` on the same sphere."""
    from maps.geo import EARTH_RADIUS_M

    lat1, lon1 = math.radians(start.y), math.radians(start.x)
    bearing, angular = math.radians(bearing_deg), distance_m / EARTH_RADIUS_M
    lat2 = math.asin(math.sin(lat1) * math.cos(angular)
                     + math.cos(lat1) * math.sin(angular) * math.cos(bearing))
    lon2 = lon1 + math.atan2(math.sin(bearing) * math.sin(angular) * math.cos(lat1),
                             math.cos(angular) - math.sin(lat1) * math.sin(lat2))
    return Point(math.degrees(lon2), math.degrees(lat2), srid=4326)


def test_bounding_boxes_carry_wgs84_and_their_extent():
    box = bbox_polygon(12.3, 55.7, 12.4, 55.75)
    assert box.srid == 4326
    assert box.extent == pytest.approx((12.3, 55.7, 12.4, 55.75))


def test_points_are_wgs84_and_ranges_are_checked():
    assert make_point("12.5", 55.6).srid == 4326
    assert valid_lon_lat(12.5, 55.6) and valid_lon_lat(-180, 90)
    for lon, lat in ((181, 0), (0, -90.5), (math.nan, 0), (0, math.inf)):
        assert not valid_lon_lat(lon, lat)


def test_haversine_agrees_with_a_degree_of_latitude_and_is_symmetric():
    a, b = Point(12.0, 55.0, srid=4326), Point(12.0, 56.0, srid=4326)
    assert haversine_m(a, b) == pytest.approx(METRES_PER_DEGREE_LAT, rel=1e-9)
    assert haversine_m(a, b) == pytest.approx(haversine_m(b, a))
    assert haversine_m(a, a) == 0
    # København–Ballerup: about 15 km on the ground.
    assert 14_000 < haversine_m(Point(12.57, 55.679), Point(12.3633, 55.73)) < 15_000


@given(lon=st.floats(-179, 179), lat=st.floats(-80, 80),
       bearing=st.floats(0, 360), radius=st.floats(1, MAX_RADIUS_M))
def test_the_envelope_contains_every_point_of_the_circle(lon, lat, bearing, radius):
    centre = Point(lon, lat, srid=4326)
    edge = destination(centre, bearing, radius * 0.999)
    assert haversine_m(centre, edge) <= radius
    envelope = metres_envelope(centre, radius)
    assert envelope.srid == 4326
    min_lon, min_lat, max_lon, max_lat = envelope.extent
    assert min_lat <= edge.y <= max_lat
    if min_lon > -180 and max_lon < 180:  # the circle does not cross the antimeridian
        assert min_lon <= edge.x <= max_lon


def test_the_envelope_is_clamped_to_the_world():
    envelope = metres_envelope(Point(179.99, 89.9, srid=4326), MAX_RADIUS_M)
    min_lon, min_lat, max_lon, max_lat = envelope.extent
    assert min_lon >= -180 and max_lon <= 180 and max_lat <= 90


def test_simplifying_keeps_a_multipolygon_and_never_empties_it():
    ring = [(12.0 + 0.001 * i, 55.0 + 0.0001 * (i % 2)) for i in range(50)]
    shape = polygon(*ring, (12.05, 55.1), (12.0, 55.1))
    coarse = simplified(shape, 0.01)
    assert isinstance(coarse, MultiPolygon) and coarse.srid == 4326
    assert coarse.num_coords < shape.num_coords
    tiny = polygon((12.0, 55.0), (12.00001, 55.0), (12.00001, 55.00001))
    assert simplified(tiny, 1.0).equals(tiny)  # would vanish: the original is kept
