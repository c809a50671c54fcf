"""Reads for reports, categories and routing. Views and services call these."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import shapely
from django.contrib.gis.db.models.functions import GeometryDistance
from django.contrib.gis.geos import Point
from django.db import connections
from django.db.models import F, FloatField, Func, Max, Prefetch, Q, QuerySet
from django.utils import translation
from django.utils.translation import gettext
from shapely.ops import nearest_points

from geoservice.lib import replica
from maps.geo import bbox_polygon, haversine_m
from maps.models import Area
from maps.selectors import areas_covering, within_metres
from reports import routing
from reports.models import (
    AreaAlert,
    Asset,
    AssetType,
    BodyRule,
    Category,
    CategoryNotice,
    Department,
    KleSubject,
    Municipality,
    Photo,
    Report,
    ReportEvent,
    ResponsibleBody,
    RoutingRule,
    StaffMembership,
)
from reports.privacy import mask_identity_numbers
from reports.routing import Rule

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Timeline kinds that the public sees (their public_text only).
PUBLIC_EVENT_KINDS = (
    ReportEvent.Kind.CREATED, ReportEvent.Kind.ROUTED, ReportEvent.Kind.STATUS,
    ReportEvent.Kind.PUBLIC_REPLY, ReportEvent.Kind.REROUTED, ReportEvent.Kind.CITIZEN_UPDATE,
    ReportEvent.Kind.REDACTED,
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
    """The categories citizens and apps may choose (staff-only ones are the staff's)."""
    return (
        Category.objects.filter(municipality=municipality, active=True)
        .exclude(visibility=Category.Visibility.STAFF_ONLY)
        .select_related("kle", "municipality")
        .prefetch_related("questions", Prefetch(
            "asset_types", queryset=AssetType.objects.filter(active=True).order_by("name")))
        .order_by("group", "name")
    )


@dataclass(frozen=True)
class Notice:
    """A notice or stopper as a reader sees it, in their language."""

    kind: str
    text: str
    link: str
    phone: str
    category_code: str | None  # None: for every category

    def as_dict(self) -> dict:
        return {"kind": self.kind, "text": self.text, "link": self.link or None,
                "phone": self.phone or None}


@dataclass(frozen=True)
class BodiesHere:
    """The body rules of the bodies responsible at one point, and those bodies."""

    rules: list[routing.BodyRule]
    bodies: dict[int, ResponsibleBody]

    def decide(self, kle_number: str) -> routing.BodyDecision | None:
        return routing.route_body(kle_number=kle_number, rules=self.rules) \
            if self.rules else None

    def forwarding(self, kle_number: str) -> routing.BodyDecision | None:
        """The body a report on this subject is forwarded to here; None when it stays with
        the municipality or is stopped (a stopper, which only citizens meet)."""
        decision = self.decide(kle_number)
        return decision if decision is not None and \
            decision.action == BodyRule.Action.FORWARD else None


def bodies_at(municipality: Municipality, point: Point) -> BodiesHere:
    """The municipality's active body rules for the bodies whose areas cover `point`, each
    with the smallest such area (sizes in m², on the spheroid)."""
    through = ResponsibleBody.areas.through
    smallest: dict[int, tuple[int, str, float]] = {}
    for body_id, area_id, name, m2 in through.objects.filter(
            area__geom__contains=point, responsiblebody__active=True).annotate(
            m2=Func("area__geom", template="ST_Area(%(expressions)s::geography)",
                    output_field=FloatField())).values_list(  # type: ignore[misc]
            "responsiblebody_id", "area_id", "area__name", "m2"):
        if body_id not in smallest or m2 < smallest[body_id][2]:
            smallest[body_id] = (area_id, name, m2)
    if not smallest:
        return BodiesHere([], {})
    rows = list(BodyRule.objects.filter(municipality=municipality, active=True,
                                        body_id__in=smallest).select_related("body"))
    return BodiesHere(
        rules=[routing.BodyRule(
            id=r.id, kle_prefix=r.kle_prefix, body_id=r.body_id, body_name=r.body.name,
            action=r.action, area_id=smallest[r.body_id][0], area_name=smallest[r.body_id][1],
            area_m2=smallest[r.body_id][2], priority=r.priority) for r in rows],
        bodies={r.body_id: r.body for r in rows})


def body_notice(body: ResponsibleBody, action: str, language: str,
                category_code: str | None) -> Notice:
    """What a citizen reads before the form where a body is responsible: a stopper with
    whom to contact instead, or a notice that the report goes to them."""
    with translation.override(language):
        if action == BodyRule.Action.STOP:
            text = body.text(language) or gettext(
                "%(body)s is responsible here, not the municipality: report it to them."
            ) % {"body": body.name}
        else:
            text = gettext("%(body)s is responsible here: your report goes to them, and you "
                           "can follow it here.") % {"body": body.name}
    return Notice(kind="stopper" if action == BodyRule.Action.STOP else "notice", text=text,
                  link=body.link, phone=body.phone, category_code=category_code)


def notices_at(municipality: Municipality, point: Point | None, *, language: str,
               category: Category | None = None, here: BodiesHere | None = None
               ) -> list[Notice]:
    """The active notices and stoppers that apply: a responsible body's first (where one
    covers `point`), then the municipality's, for `category` (or every category's, when
    None), anywhere or in an area covering `point` (without a point: those that hold
    anywhere). `here`: the bodies at `point`, when the caller has read them already."""
    found: list[Notice] = []
    if here is None:
        here = bodies_at(municipality, point) if point is not None else BodiesHere([], {})
    if here.rules:
        categories = [category] if category is not None else list(
            Category.objects.filter(municipality=municipality, active=True)
            .select_related("kle"))
        for each in categories:
            decision = here.decide(each.kle.number)
            if decision is not None:
                found.append(body_notice(here.bodies[decision.body_id], decision.action,
                                         language, each.code))
    qs = CategoryNotice.objects.filter(municipality=municipality, active=True).select_related(
        "category")
    qs = qs.filter(Q(area__isnull=True) | Q(area__geom__contains=point)) if point is not None \
        else qs.filter(area__isnull=True)
    if category is not None:
        qs = qs.filter(Q(category__isnull=True) | Q(category=category))
    return found + [Notice(kind=n.kind, text=n.text(language), link=n.link, phone=n.phone,
                           category_code=n.category.code if n.category is not None else None)
                    for n in qs.order_by("order", "id")]


@dataclass(frozen=True)
class NearAsset:
    asset: Asset
    distance_m: float
    open_report_ids: list[int]


def asset_type_ids_in(municipality: Municipality) -> list[int]:
    """The municipality's active asset types that some category names."""
    return list(AssetType.objects.filter(municipality=municipality, active=True,
                                         categories__isnull=False)
                .values_list("id", flat=True).distinct())


def assets_near(point: Point, type_ids: list[int], *, limit: int = 5) -> list[NearAsset]:
    """The nearest assets of these (active) types, each within its type's select distance,
    nearest first, with the ids of their open public reports."""
    from reports.lifecycle import OPEN_STATUSES

    widest = AssetType.objects.filter(id__in=type_ids, active=True).aggregate(
        m=Max("select_distance_m"))["m"]
    if widest is None:
        return []
    rows = list(
        Asset.objects.filter(asset_type_id__in=type_ids, asset_type__active=True,
                             removed_at__isnull=True)
        .filter(within_metres(point, widest))
        .annotate(distance=GeometryDistance("location", point))
        .select_related("asset_type").order_by("distance")[:limit * 4])
    near = [(a, haversine_m(a.location, point)) for a in rows]
    near = sorted(((a, d) for a, d in near if d <= a.asset_type.select_distance_m),
                  key=lambda pair: pair[1])[:limit]
    open_ids: dict[int, list[int]] = {}
    for report_id, asset_id in Report.objects.filter(
            asset_id__in=[a.pk for a, _ in near], public=True,
            status__in=OPEN_STATUSES).order_by("-id").values_list("id", "asset_id"):
        open_ids.setdefault(asset_id, []).append(report_id)
    return [NearAsset(asset=a, distance_m=d, open_report_ids=open_ids.get(a.pk, []))
            for a, d in near]


def notices_by_category(notices: list[Notice], codes: list[str]) -> dict[str, list[dict]]:
    return {code: [n.as_dict() for n in notices if n.category_code in (None, code)]
            for code in codes}


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

# The public GeoJSON Feature of a report, built by PostgreSQL. Raw SQL because this is the
# hottest path of the service: the ORM spends longer compiling the nested json_build_object
# expression than PostGIS spends running it, and aggregating the features into one text in
# the database spares psycopg a row per feature (benchmarks/bbox.py measures this against
# the same statement run directly). Public fields only: never reporter contact, internal
# notes or routing internals.
_PUBLIC_FEATURE_SQL = """
json_build_object(
  'type', 'Feature', 'id', r.id,
  'geometry', ST_AsGeoJSON(r.location, 7)::json,
  'properties', json_build_object(
    'status', r.status,
    'category', json_build_object('code', c.code, 'name', c.name),
    'kle', k.number,
    'department', json_build_object('id', r.department_id, 'name', d.name),
    'responsible_body', (SELECT json_build_object('name', b.name, 'kind', b.kind)
                         FROM reports_responsiblebody b WHERE b.id = r.responsible_body_id),
    'asset', (SELECT json_build_object('id', a.id, 'external_id', a.external_id,
                                       'label', r.asset_label, 'type', t.code)
              FROM reports_asset a JOIN reports_assettype t ON t.id = a.asset_type_id
              WHERE a.id = r.asset_id),
    'municipality', json_build_object('code', m.code, 'name', m.name),
    'description', r.public_description, 'address', r.address,
    'duplicate_of', r.duplicate_of_id,
    'photos', coalesce((SELECT json_agg(json_build_object('url', p.url,
                                                          'thumbnail_url', p.thumbnail_url)
                                        ORDER BY p.id)
                        FROM reports_photo p WHERE p.report_id = r.id AND p.public),
                       '[]'::json),
    'media_url', coalesce((SELECT p.url FROM reports_photo p WHERE p.report_id = r.id
                           AND p.public ORDER BY p.id LIMIT 1), nullif(r.media_url, '')),
    'created_at', r.created_at, 'updated_at', r.updated_at,
    'expected_datetime', r.expected_at, 'version', r.version))::text
"""
_PUBLIC_FEATURES_FROM = """
FROM reports_report r
JOIN reports_category c ON c.id = r.category_id
JOIN reports_klesubject k ON k.id = c.kle_id
JOIN reports_department d ON d.id = r.department_id
JOIN reports_municipality m ON m.id = r.municipality_id
"""


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
    asset_ids: list[int] = field(default_factory=list)
    updated_after: dt.datetime | None = None
    updated_before: dt.datetime | None = None
    created_after: dt.datetime | None = None  # inclusive
    created_before: dt.datetime | None = None  # inclusive
    ids: list[int] = field(default_factory=list)
    before_id: int | None = None  # keyset cursor: only reports with a smaller id


def reports_filtered(filters: ReportFilters) -> QuerySet[Report]:
    """Reports matching the filters, newest (highest id) first. Each filter has an index:
    GiST on location, (status, id), (municipality, id), FK indexes, created/updated_at."""
    qs = Report.objects.all()
    if filters.bbox is not None:
        qs = qs.filter(location__intersects=bbox_polygon(*filters.bbox))
    if filters.near is not None:
        qs = qs.filter(within_metres(filters.near, filters.radius_m or 0))
    if filters.ids:
        qs = qs.filter(pk__in=filters.ids)
    if filters.created_after is not None:
        qs = qs.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        qs = qs.filter(created_at__lte=filters.created_before)
    if filters.updated_before is not None:
        qs = qs.filter(updated_at__lt=filters.updated_before)
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
    if filters.asset_ids:
        qs = qs.filter(asset_id__in=filters.asset_ids)
    if filters.updated_after is not None:
        qs = qs.filter(updated_at__gt=filters.updated_after)
    if filters.before_id is not None:
        qs = qs.filter(id__lt=filters.before_id)
    return qs.order_by("-id")


# The lean map representation (`view=map`): what a map draws and follows (id, point, status,
# category and municipality codes, version); the category names once per page beside it.
_MAP_FEATURE_SQL = """
json_build_object(
  'type', 'Feature', 'id', r.id,
  'geometry', ST_AsGeoJSON(r.location, 7)::json,
  'properties', json_build_object('status', r.status, 'category', r.category_code,
                                  'municipality', r.municipality_code,
                                  'version', r.version))::text
"""


@dataclass(frozen=True)
class FeaturesPage:
    features: str  # the Features' JSON texts joined by commas
    count: int
    next_id: int | None  # the id to continue below when there are more
    categories: str | None = None  # view=map: a JSON array naming the page's categories


def public_features_page(filters: ReportFilters, limit: int, *,
                         view: str = "full") -> FeaturesPage:
    """Up to `limit` public Features, newest first, in the full or the lean map
    representation; one statement either way."""
    ids_sql, ids_params = (
        reports_filtered(filters).filter(public=True).values_list("id", flat=True)[: limit + 1]
        .query.sql_with_params()
    )
    if view == "map":
        return _map_features_page(ids_sql, [*ids_params, limit], limit)
    sql = f"""
        WITH page AS MATERIALIZED ({ids_sql}),
             shown AS (SELECT id FROM page ORDER BY id DESC LIMIT %s)
        SELECT (SELECT count(*) FROM page), (SELECT count(*) FROM shown),
               (SELECT min(id) FROM shown),
               coalesce(string_agg({_PUBLIC_FEATURE_SQL}, ',' ORDER BY r.id DESC), '')
        {_PUBLIC_FEATURES_FROM}
        WHERE r.id IN (SELECT id FROM shown)
    """
    with connections[replica.read_alias()].cursor() as cursor:
        cursor.execute(sql, [*ids_params, limit])
        total, shown, last_id, features = cursor.fetchone()
    return FeaturesPage(features, shown, last_id if total > limit else None)


def _map_features_page(ids_sql: str, params: list, limit: int) -> FeaturesPage:
    sql = f"""
        WITH page AS MATERIALIZED ({ids_sql}),
             shown AS (SELECT id FROM page ORDER BY id DESC LIMIT %s),
             r AS MATERIALIZED (
               SELECT r.id, r.location, r.status, r.version, c.code AS category_code,
                      c.name AS category_name, k.number AS kle, m.code AS municipality_code
               FROM reports_report r
               JOIN reports_category c ON c.id = r.category_id
               JOIN reports_klesubject k ON k.id = c.kle_id
               JOIN reports_municipality m ON m.id = r.municipality_id
               WHERE r.id IN (SELECT id FROM shown))
        SELECT (SELECT count(*) FROM page), (SELECT count(*) FROM r), (SELECT min(id) FROM r),
               coalesce((SELECT string_agg({_MAP_FEATURE_SQL}, ',' ORDER BY r.id DESC)
                         FROM r), ''),
               coalesce((SELECT json_agg(json_build_object(
                                  'municipality', municipality_code, 'code', category_code,
                                  'name', category_name, 'kle', kle)
                                ORDER BY municipality_code, category_code)
                         FROM (SELECT DISTINCT municipality_code, category_code, category_name,
                                               kle FROM r) named), '[]'::json)::text
    """
    with connections[replica.read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        total, shown, last_id, features, categories = cursor.fetchone()
    return FeaturesPage(features, shown, last_id if total > limit else None, categories)


def public_feature(report_id: int) -> str | None:
    """One report's public Feature as JSON text, or None."""
    with connections[replica.read_alias()].cursor() as cursor:
        cursor.execute(
            f"SELECT {_PUBLIC_FEATURE_SQL} {_PUBLIC_FEATURES_FROM} WHERE r.id = %s "
            "AND r.public", [report_id]
        )
        row = cursor.fetchone()
    return row[0] if row else None


def public_events() -> QuerySet[ReportEvent]:
    """Timeline rows the public may see (their public_text only), oldest first."""
    return ReportEvent.objects.filter(kind__in=PUBLIC_EVENT_KINDS).order_by("created_at", "id")


def timeline_entry(event: ReportEvent) -> dict:
    """One public timeline row as JSON-able data, identity numbers masked."""
    return {
        "kind": event.kind,
        "from_status": event.from_status or None,
        "to_status": event.to_status or None,
        "text": mask_identity_numbers(event.public_text),
        "by": event.actor_label,
        "at": event.created_at.isoformat(),
    }


def public_timeline(report_id: int) -> list[dict]:
    """The public part of a report's timeline, oldest first."""
    return [timeline_entry(e) for e in public_events().filter(report_id=report_id)]


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


def served_municipality_codes() -> list[str]:
    return list(Municipality.objects.filter(active=True).order_by("code")
                .values_list("code", flat=True))


def live_report_row(report_id: int) -> dict | None:
    """What live events need of a report: its public Feature (None while it is not public)
    plus routing and staff fields. None for a report not yet confirmed: nothing goes out."""
    row = (
        Report.objects.filter(id=report_id)
        .values("status", "version", "department_id", "municipality__code", "reporter_name",
                "reporter_email", "reporter_phone", "needs_triage", "routing_explanation",
                "location", "hidden", "private", "confirmed_at", "public")
        .first()
    )
    if row is None:
        return None
    if row["confirmed_at"] is None and not row["hidden"]:
        return None
    feature = public_feature(report_id) if row["public"] else None
    fields = {k: v for k, v in row.items()
              if k not in ("location", "municipality__code", "confirmed_at")}
    location = row["location"]
    return {**fields, "municipality_code": row["municipality__code"],
            "lon": location.x, "lat": location.y, "feature": feature}


def municipality_codes_in_bbox(bbox: tuple[float, float, float, float]) -> list[str]:
    return list(
        Municipality.objects.filter(active=True, area__geom__intersects=bbox_polygon(*bbox))
        .order_by("code").values_list("code", flat=True)
    )


def served_municipalities() -> QuerySet[Municipality]:
    """The municipalities this installation serves, by code."""
    return Municipality.objects.filter(active=True).select_related("area").order_by("code")


def served_municipality(code: str) -> Municipality | None:
    return served_municipalities().filter(code=code).first()


def report_scope(report_id: int) -> Report | None:
    """A report's id and municipality only (who may add photos to it)."""
    return Report.objects.filter(pk=report_id).only("id", "municipality_id").first()


def public_reports_in_area(area: Area) -> QuerySet[Report]:
    return Report.objects.filter(public=True, location__intersects=area.geom)


def public_reports_near(point: Point, radius_m: float) -> QuerySet[Report]:
    return Report.objects.filter(within_metres(point, radius_m), public=True)


def staff_department_ids(user: User) -> list[int]:
    """The departments whose reports a staff user may see (the scope of every staff view).

    Superusers see every department; a municipality admin every department of that
    municipality; caseworkers and department leads their own departments.
    """
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return []
    if user.is_superuser:
        return list(Department.objects.order_by("id").values_list("id", flat=True))
    memberships = StaffMembership.objects.filter(user=user)
    return list(
        Department.objects.filter(
            Q(id__in=memberships.exclude(department=None).values("department_id"))
            | Q(municipality_id__in=memberships.filter(
                role=StaffMembership.Role.MUNICIPALITY_ADMIN).values("municipality_id"))
        ).order_by("id").values_list("id", flat=True)
    )


def public_report(report_id: int) -> Report | None:
    """A report for its public page: templates may show public fields only
    (public_description, status, category, department, municipality, address, photos)."""
    return (Report.objects.select_related("category", "department", "municipality")
            .prefetch_related(public_photos()).filter(pk=report_id, public=True).first())


def report_for_its_reporter(report_id: int) -> Report | None:
    """A private report for its reporter's private link: the public fields, as a public
    report's page shows them (the link is the reporter's credential)."""
    return (Report.objects.select_related("category", "department", "municipality")
            .prefetch_related(public_photos()).filter(pk=report_id, private=True,
                                                     confirmed_at__isnull=False).first())


def public_photos() -> Prefetch:
    """A report's photos that the public sees (`report.photos.all()` after it)."""
    return Prefetch("photos", queryset=Photo.objects.filter(public=True).order_by("id"))



def alerts_matching(point: Point, *, immediate: bool) -> QuerySet[AreaAlert]:
    """Confirmed area alerts that cover a point: by area, or within their radius (metres on
    the sphere)."""
    from django.db.models.expressions import RawSQL

    frequency = AreaAlert.Frequency.IMMEDIATE if immediate else AreaAlert.Frequency.DAILY
    alerts = AreaAlert.objects.filter(confirmed_at__isnull=False, frequency=frequency)
    # Raw: each alert has its own radius; measured on the sphere like every radius here.
    within = RawSQL("SELECT id FROM reports_areaalert WHERE location IS NOT NULL AND "
                    "ST_DistanceSphere(location, ST_GeomFromEWKT(%s)) <= radius_m",
                    (point.ewkt,))
    return alerts.filter(Q(area__geom__intersects=point) | Q(pk__in=within))


def public_reports_for_alert(alert: AreaAlert, since: dt.datetime) -> list[Report]:
    """Public reports filed since `since` inside an alert's area or circle, oldest first."""
    qs = Report.objects.filter(public=True, created_at__gt=since).select_related(
        "category", "municipality")
    if alert.area is not None:
        qs = qs.filter(location__intersects=alert.area.geom)
    elif alert.location is not None and alert.radius_m is not None:
        qs = qs.filter(within_metres(alert.location, alert.radius_m))
    else:  # the alert_area_or_circle constraint rules this out
        return []
    return list(qs.order_by("created_at", "id")[:200])
