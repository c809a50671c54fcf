"""Reads for reports, categories and routing. Views and services call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import shapely
from django.contrib.gis.db.models.functions import AsGeoJSON, GeometryDistance
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.db.models import Count, F, FloatField, Func, Q, QuerySet, Value
from shapely.ops import nearest_points

from geoservice.lib.sql import AsJson, AsText, JsonObject
from maps.geo import haversine_m, metres_envelope
from maps.models import Area
from maps.selectors import areas_covering
from reports.lifecycle import OPEN_STATUSES
from reports.models import Category, KleSubject, Municipality, Report, ReportEvent, RoutingRule
from reports.routing import Rule

# Timeline kinds that the public sees (their public_text only).
PUBLIC_EVENT_KINDS = (
    ReportEvent.Kind.CREATED, ReportEvent.Kind.ROUTED, ReportEvent.Kind.STATUS,
    ReportEvent.Kind.PUBLIC_REPLY,
)


def municipality_at(point: Point) -> Municipality | None:
    """The served (active) municipality whose boundary contains the point."""
    return (
        Municipality.objects.filter(active=True, area__geom__intersects=point)
        .select_related("default_department")
        .first()
    )


@dataclass(frozen=True)
class NearestMunicipality:
    municipality: Municipality
    distance_m: float


def nearest_served_municipality(point: Point) -> NearestMunicipality | None:
    """The served municipality closest to a point outside all of them (KNN on the GiST index)."""
    municipality = (
        Municipality.objects.filter(active=True)
        .select_related("area")
        .order_by(GeometryDistance("area__geom", point))
        .first()
    )
    if municipality is None:
        return None
    # Distance to the boundary's nearest point, measured on the sphere.
    boundary = shapely.from_wkb(bytes(municipality.area.geom.wkb))
    closest, _ = nearest_points(boundary, shapely.Point(point.x, point.y))
    return NearestMunicipality(
        municipality, haversine_m(point, Point(closest.x, closest.y, srid=4326))
    )


def categories_for_municipality(municipality: Municipality) -> QuerySet[Category]:
    return (
        Category.objects.filter(municipality=municipality, active=True)
        .select_related("kle", "municipality")
        .order_by("group", "name")
    )


def category_for_report(municipality: Municipality, code: str) -> Category | None:
    return (
        Category.objects.filter(municipality=municipality, code=code, active=True)
        .select_related("kle")
        .first()
    )


def _kle_prefixes(kle_number: str) -> list[str]:
    """"05.01.08" → ["", "05", "05.01", "05.01.08"]: every prefix a rule can carry."""
    segments = kle_number.split(".")
    return [""] + [".".join(segments[: i + 1]) for i in range(len(segments))]


def routing_rules_for(
    municipality: Municipality, kle_number: str, covering_area_ids: list[int]
) -> list[Rule]:
    """The municipality's active rules that could match this KLE number at this point."""
    rows = RoutingRule.objects.filter(
        Q(area__isnull=True) | Q(area_id__in=covering_area_ids),
        municipality=municipality, active=True, kle_prefix__in=_kle_prefixes(kle_number),
    ).select_related("department").annotate(
        area_name=F("area__name"),
        # Square degrees: only compared between areas of one municipality.
        area_size=Func("area__geom", function="ST_Area", output_field=FloatField()),
    )
    return [
        Rule(
            id=r.id, kle_prefix=r.kle_prefix, department_id=r.department_id,
            department_name=r.department.name, priority=r.priority, area_id=r.area_id,
            area_name=r.area_name or "",
            area_size=r.area_size if r.area_id else float("inf"),
        )
        for r in rows
    ]


def covering_area_ids(point: Point) -> list[int]:
    return list(areas_covering(point).values_list("id", flat=True))


# --- public report output --------------------------------------------------------------

def public_feature_expression() -> Func:
    """The public GeoJSON Feature of a report, built by PostgreSQL, as text.

    Public fields only: never reporter contact, internal notes or routing internals.
    """
    return AsText(JsonObject(
        type=Value("Feature"),
        id="id",
        geometry=AsJson(AsGeoJSON("location", precision=7)),
        properties=JsonObject(
            status="status",
            category=JsonObject(code="category__code", name="category__name"),
            kle="category__kle__number",
            department=JsonObject(id="department_id", name="department__name"),
            municipality=JsonObject(code="municipality__code", name="municipality__name"),
            description="description",
            address="address",
            duplicate_of="duplicate_of_id",
            created_at="created_at",
            updated_at="updated_at",
            version="version",
        ),
    ))


@dataclass
class ReportFilters:
    bbox: tuple[float, float, float, float] | None = None
    near: Point | None = None
    radius_m: float | None = None
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    kle_prefix: str | None = None
    municipality_codes: list[str] = field(default_factory=list)
    department_ids: list[int] = field(default_factory=list)
    updated_after: dt.datetime | None = None
    before_id: int | None = None  # keyset cursor: only reports with a smaller id


def reports_filtered(filters: ReportFilters) -> QuerySet[Report]:
    """Reports matching the filters, newest (highest id) first. Each filter has an index:
    GiST on location, (status, id), (municipality, id), FK indexes, updated_at."""
    qs = Report.objects.all()
    if filters.bbox is not None:
        qs = qs.filter(location__intersects=Polygon.from_bbox(filters.bbox))
    if filters.near is not None:
        radius = filters.radius_m or 0
        qs = qs.filter(
            location__intersects=metres_envelope(filters.near, radius),
            location__distance_lte=(filters.near, D(m=radius)),
        )
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.categories:
        qs = qs.filter(category__code__in=filters.categories)
    if filters.kle_prefix:
        # Resolve the prefix against the small KLE table first, then filter by category id.
        subjects = KleSubject.objects.filter(number__startswith=filters.kle_prefix)
        qs = qs.filter(category__kle__in=subjects)
    if filters.municipality_codes:
        qs = qs.filter(municipality__code__in=filters.municipality_codes)
    if filters.department_ids:
        qs = qs.filter(department_id__in=filters.department_ids)
    if filters.updated_after is not None:
        qs = qs.filter(updated_at__gt=filters.updated_after)
    if filters.before_id is not None:
        qs = qs.filter(id__lt=filters.before_id)
    return qs.order_by("-id")


def public_features_page(filters: ReportFilters, limit: int) -> tuple[list[str], int | None]:
    """Up to `limit` public Features (JSON text) and the id to continue below, if any."""
    rows = list(
        reports_filtered(filters)
        .annotate(feature=public_feature_expression())
        .values_list("id", "feature")[: limit + 1]
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return [feature for _, feature in rows], (rows[-1][0] if more and rows else None)


def public_feature(report_id: int) -> str | None:
    return (
        Report.objects.filter(id=report_id)
        .annotate(feature=public_feature_expression())
        .values_list("feature", flat=True)
        .first()
    )


def public_timeline(report_id: int) -> list[dict]:
    """The public part of a report's timeline, oldest first."""
    rows = ReportEvent.objects.filter(report_id=report_id, kind__in=PUBLIC_EVENT_KINDS).values(
        "kind", "from_status", "to_status", "public_text", "actor_label", "created_at"
    )
    return [
        {
            "kind": row["kind"],
            "from_status": row["from_status"] or None,
            "to_status": row["to_status"] or None,
            "text": row["public_text"],
            "by": row["actor_label"],
            "at": row["created_at"].isoformat(),
        }
        for row in rows
    ]


def areas_listed(*, kind: str | None = None, municipality_code: str | None = None
                 ) -> QuerySet[Area]:
    qs = Area.objects.select_related("parent")
    if kind:
        qs = qs.filter(kind=kind)
    if municipality_code:
        qs = qs.filter(
            Q(code=municipality_code, kind=Area.Kind.MUNICIPALITY)
            | Q(parent__code=municipality_code, parent__kind=Area.Kind.MUNICIPALITY)
        )
    return qs.order_by("kind", "code")


def served_municipalities_overview() -> list[dict]:
    """Served municipalities with their open-report and category counts (landing page)."""
    rows = (
        Municipality.objects.filter(active=True)
        .annotate(
            open_reports=Count(
                "categories__reports",
                filter=Q(categories__reports__status__in=list(OPEN_STATUSES)),
            ),
        )
        .order_by("name")
    )
    categories = {
        m.id: list(categories_for_municipality(m).values_list("name", flat=True)) for m in rows
    }
    return [
        {"code": m.code, "name": m.name, "open_reports": m.open_reports,
         "categories": categories[m.id]}
        for m in rows
    ]
