"""Spatial reads. Every filter here is backed by a GiST (or pattern) index."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.geos import Point
from django.contrib.gis.measure import D
from django.db.models import Q, QuerySet
from django.db.models.functions import Collate

from maps.geo import haversine_m, metres_envelope
from maps.models import Address, Area

KNN_CANDIDATES = 8


def within_metres(point: Point, radius_m: float, field: str = "location") -> Q:
    """Rows whose `field` lies within `radius_m` metres of `point`, on the sphere: first the
    lon/lat envelope of the circle (so the GiST index is used), then the exact distance
    (maps.geo says why the sphere is good enough)."""
    return Q(**{f"{field}__intersects": metres_envelope(point, radius_m),
                f"{field}__distance_lte": (point, D(m=radius_m))})


def area_by_id(area_id: int) -> Area | None:
    return Area.objects.filter(pk=area_id).first()


def areas_covering(point: Point, *, kinds: list[str] | None = None) -> QuerySet[Area]:
    """Areas whose polygon contains the point (boundary included)."""
    qs = Area.objects.filter(geom__intersects=point)
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return qs


@dataclass(frozen=True)
class NearestAddress:
    address: Address
    distance_m: float


def nearest_address(point: Point, *, max_distance_m: float | None = None) -> NearestAddress | None:
    """The imported address closest to `point`, optionally only within max_distance_m.

    KNN ordering (`<->`, GiST index) works in degrees, where a degree of longitude is shorter
    than one of latitude; so the few nearest in degrees are re-ranked by metres on the sphere.
    """
    qs = Address.objects.all()
    if max_distance_m is not None:
        qs = qs.filter(location__intersects=metres_envelope(point, max_distance_m))
    candidates = list(qs.order_by(GeometryDistance("location", point))[:KNN_CANDIDATES])
    if not candidates:
        return None
    best = min(candidates, key=lambda a: haversine_m(point, a.location))
    distance = haversine_m(point, best.location)
    if max_distance_m is not None and distance > max_distance_m:
        return None
    return NearestAddress(best, distance)


def addresses_search(query: str, *, limit: int = 20) -> QuerySet[Address]:
    """Addresses whose "street number, postcode town" text starts with `query` (any case)."""
    normalised = " ".join(query.lower().split())
    return (Address.objects.annotate(search_c=Collate("search_text", "C"))
            .filter(search_c__startswith=normalised).order_by("search_c")[:limit])


class AddressNotFound(ValueError):
    """A typed address that names no imported address, or several."""


def address_named(text: str) -> Address:
    """The one imported address that `text` names: an exact "street number, postcode town",
    or the only address it starts; AddressNotFound (saying which) otherwise."""
    matches = list(addresses_search(text, limit=2))
    exact = [a for a in matches if a.search_text == " ".join(text.lower().split())]
    if exact:
        return exact[0]
    if len(matches) == 1:
        return matches[0]
    if not matches:
        raise AddressNotFound(f"{text!r} matches no known address")
    raise AddressNotFound(f"{text!r} matches several addresses; give the full address "
                          "(street, number, postcode, town)")


def overlap_m2(area: Area, others: list[int]) -> dict[int, float]:
    """Square metres (on the sphere) that `area` shares with each of the areas `others`,
    for those it shares more than a sliver with. Raw SQL: ST_Intersection over geography;
    the `&&` uses the GiST index. Neighbours that only touch share 0."""
    if not others:
        return {}
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT b.id, ST_Area(ST_Intersection(a.geom, b.geom)::geography) "
            "FROM maps_area a JOIN maps_area b ON a.geom && b.geom "
            "WHERE a.id = %s AND b.id = ANY(%s) AND ST_Intersects(a.geom, b.geom)",
            [area.pk, others])
        return {pk: m2 for pk, m2 in cursor.fetchall() if m2 > SLIVER_M2}


# Shared area below this counts as touching: digitised neighbours meet with slivers.
SLIVER_M2 = 100.0
