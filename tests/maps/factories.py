"""Factories and geometry helpers for maps."""

from __future__ import annotations

import factory
from django.contrib.gis.geos import MultiPolygon, Point, Polygon

from maps.models import Area


def polygon(*lon_lat: tuple[float, float]) -> MultiPolygon:
    """A MultiPolygon (SRID 4326) from a ring of (lon, lat) pairs; the ring is closed for you."""
    ring = list(lon_lat)
    if ring[0] != ring[-1]:
        ring.append(ring[0])
    return MultiPolygon(Polygon(ring), srid=4326)


def box(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> MultiPolygon:
    return polygon((min_lon, min_lat), (max_lon, min_lat), (max_lon, max_lat),
                   (min_lon, max_lat))


def point(lon: float, lat: float) -> Point:
    return Point(lon, lat, srid=4326)


class AreaFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Area

    kind = Area.Kind.CUSTOM
    code = factory.Sequence(lambda n: f"T{n}")
    name = factory.Sequence(lambda n: f"Test area {n}")
    geom = factory.LazyFunction(lambda: box(12.30, 55.70, 12.40, 55.75))


def municipality_area(code: str) -> Area:
    """The real (imported) boundary of a Danish municipality."""
    return Area.objects.get(kind=Area.Kind.MUNICIPALITY, code=code)


def district(municipality_code: str, code: str) -> Area:
    return Area.objects.get(kind=Area.Kind.DISTRICT, parent__code=municipality_code, code=code)
