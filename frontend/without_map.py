"""Reporting without the map (WCAG 2.1 AA; a screen reader cannot use a map): the place by
address, the category, the description, photos and contact, sent and confirmed, in plain
server-rendered forms that work without JavaScript. The same services as the map's path;
the form's hidden token is the Idempotency-Key, so sending the form twice files once."""

from __future__ import annotations

import uuid

from django.contrib.gis.geos import Point
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from geoservice.errors import ApplicationError, OutsideServiceArea
from maps.selectors import addresses_search
from reports import selectors, services
from reports.api import access
from reports.api.idempotency import run_idempotent
from reports.models import Report
from reports.photos import read_uploads
from reports.services import privacy

TEMPLATE = "frontend/report_without_map.html"
MATCHES = 10


def _place(raw: str) -> Point | None:
    try:
        lon, lat = (float(part) for part in raw.split(","))
    except ValueError:
        return None
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        return None
    return Point(lon, lat, srid=4326)


def _categories(municipality, point: Point, language: str) -> list[dict]:
    categories = list(selectors.categories_for_municipality(municipality))
    notices = selectors.notices_by_category(
        selectors.notices_at(municipality, point, language=language),
        [c.code for c in categories])
    return [{"category": c, "notices": notices[c.code],
             "private": privacy.is_category_private(c),
             "stopped": any(n["kind"] == "stopper" for n in notices[c.code])}
            for c in categories]


@require_http_methods(["GET", "POST"])
def report_without_map(request):
    """Step by step in the query string (address → place → form), then one POST."""
    language = request.LANGUAGE_CODE or "da"
    context: dict = {"q": request.GET.get("q", "").strip()}
    raw_place = request.POST.get("place") or request.GET.get("place", "")
    point = _place(raw_place) if raw_place else None
    if point is None:
        if context["q"]:
            context["matches"] = list(addresses_search(context["q"], limit=MATCHES))
        return render(request, TEMPLATE, {**context, "step": "place"})
    address = (request.POST.get("address") or request.GET.get("address", "")).strip()[:300]
    context.update(place=raw_place, address=address, step="details")
    try:
        municipality = services.municipality_serving(point)
    except OutsideServiceArea as exc:
        return render(request, TEMPLATE, {**context, "step": "place", "error": exc.message},
                      status=400)
    context.update(municipality=municipality,
                   categories=_categories(municipality, point, language),
                   assets=selectors.assets_near(point,
                                                selectors.asset_type_ids_in(municipality)),
                   form_token=request.POST.get("form_token") or uuid.uuid4().hex,
                   values=request.POST)
    if request.method != "POST":
        return render(request, TEMPLATE, context)

    def file():
        post = request.POST
        anonymous = post.get("anonymous") == "on"
        report = services.report_create(
            location=point, category_code=post.get("category", ""),
            description=post.get("description", ""), address=address,
            reporter=services.Reporter(
                name="" if anonymous else post.get("name", "").strip()[:200],
                email="" if anonymous else post.get("email", "").strip(),
                phone="" if anonymous else post.get("phone", "").strip()[:40]),
            photos=read_uploads(request.FILES.getlist("photos"), "photos"),
            asset_id=int(post["asset"]) if post.get("asset", "").isdigit() else None,
            source=Report.Source.WEB, language=language)
        return render(request, "frontend/report_without_map_sent.html", {
            "report": report, "waiting": report.confirmed_at is None}, status=201)

    try:
        access.check_rate(request, None, posting=True)
        return run_idempotent(request, access.idempotency_scope(request, None), file,
                              key=request.POST.get("form_token") or None)
    except ApplicationError as exc:
        errors = {field.split(".")[0]: messages for field, messages in exc.errors.items()}
        return render(request, TEMPLATE, {**context, "error": exc.message,
                                          "field_errors": errors,
                                          "error_list": [m for ms in errors.values()
                                                         for m in ms] or [exc.message]},
                      status=exc.status_code)

