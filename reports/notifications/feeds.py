"""Atom feeds of new public reports: in an area, or near a point."""

from __future__ import annotations

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import QuerySet
from django.http import Http404
from django.utils.feedgenerator import Atom1Feed

from maps.geo import MAX_RADIUS_M, make_point, valid_lon_lat
from maps.models import Area
from maps.selectors import area_by_id
from reports import selectors
from reports.models import Report

FEED_SIZE = 50


class _ReportFeed(Feed):
    feed_type = Atom1Feed

    def reports(self, obj) -> QuerySet[Report]:
        """The public reports the feed is about (each feed defines it)."""
        raise NotImplementedError

    def items(self, obj):
        return (self.reports(obj).select_related("category", "department")
                .order_by("-created_at", "-id")[:FEED_SIZE])

    def item_title(self, report: Report) -> str:
        where = f", {report.address}" if report.address else ""
        return f"#{report.pk} {report.category.name}{where} ({report.get_status_display()})"

    def item_description(self, report: Report) -> str:
        return report.public_description

    def item_link(self, report: Report) -> str:
        return f"{settings.SITE_URL}/reports/{report.pk}"

    def item_pubdate(self, report: Report):
        return report.created_at

    def item_updateddate(self, report: Report):
        return report.updated_at

    def item_guid(self, report: Report) -> str:
        return f"urn:uuid:{report.token}"

    item_guid_is_permalink = False


class AreaFeed(_ReportFeed):
    def get_object(self, request, area_id: int):
        area = area_by_id(area_id)
        if area is None:
            raise Http404("No such area")
        return area

    def title(self, area: Area) -> str:
        return f"Nye henvendelser i {area.name}"

    def link(self, area: Area) -> str:
        return f"{settings.SITE_URL}/feeds/area/{area.pk}/"

    def description(self, area: Area) -> str:
        return f"Indberetninger fra borgere i {area.name} (OS2geo)."

    def reports(self, area: Area):
        return selectors.public_reports_in_area(area)


class NearFeed(_ReportFeed):
    def get_object(self, request):
        try:
            lon, lat = float(request.GET["lon"]), float(request.GET["lat"])
            radius = float(request.GET.get("radius", 500))
        except (KeyError, ValueError):
            raise Http404("Use ?lon=&lat=&radius= (metres)") from None
        if not valid_lon_lat(lon, lat) or not 1 <= radius <= MAX_RADIUS_M:
            raise Http404(f"lon/lat out of range or radius not within 1..{MAX_RADIUS_M} m")
        return make_point(lon, lat), radius

    def title(self, obj) -> str:
        return f"Nye henvendelser inden for {obj[1]:.0f} m"

    def link(self, obj) -> str:
        point, radius = obj
        return f"{settings.SITE_URL}/feeds/near/?lon={point.x}&lat={point.y}&radius={radius:.0f}"

    def description(self, obj) -> str:
        return "Indberetninger fra borgere (OS2geo)."

    def reports(self, obj):
        point, radius = obj
        return selectors.public_reports_near(point, radius)
