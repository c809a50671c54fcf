"""Open311 GeoReport v2 under /open311/v2/ (see docs/open311.md). Thin: parse the
form-style parameters, call selectors and services, render JSON or XML."""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable

from django.conf import settings
from django.contrib.gis.geos import Point, Polygon
from django.contrib.gis.measure import D
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db.models import OuterRef, Prefetch, Subquery
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.csrf import csrf_exempt

from geoservice.errors import ApplicationError
from maps.geo import metres_envelope, valid_lon_lat
from maps.selectors import addresses_search
from reports import selectors, services
from reports.api import access
from reports.api.idempotency import IdempotencyProblem, run_idempotent
from reports.lifecycle import CLOSED_STATUSES, OPEN_STATUSES, open311_status
from reports.models import Category, Municipality, Photo, Report, ReportEvent
from reports.open311.formats import iso, render, render_errors
from reports.privacy import mask_identity_numbers

DEFAULT_DAYS = 90
EMAIL_MAX_LENGTH = 254  # RFC 5321's limit on a forward path
MAX_PAGE_SIZE = 1000
POSTCODE = re.compile(r",\s*(\d{4})\s")


class Open311Error(Exception):
    def __init__(self, status: int, *descriptions: str):
        super().__init__(descriptions[0] if descriptions else "")
        self.status = status
        self.descriptions = list(descriptions)


def endpoint(view: Callable) -> Callable:
    """Wrap a view: format from the URL, errors in the spec's shape, never a 500 for input."""

    @csrf_exempt
    def wrapped(request: HttpRequest, fmt: str | None = None, **kwargs) -> HttpResponse:
        fmt = fmt or "json"
        try:
            return view(request, fmt, **kwargs)
        except Open311Error as exc:
            return render_errors(fmt, exc.status, exc.descriptions)
        except access.RateLimited as exc:
            response = render_errors(fmt, 429, [exc.message])
            response["Retry-After"] = str(exc.retry_after)
            return response
        except IdempotencyProblem as exc:
            return render_errors(fmt, exc.status, [exc.message])
        except PermissionDenied as exc:
            return render_errors(fmt, 403, [str(exc) or "Not allowed."])
        except ApplicationError as exc:
            descriptions = [f"{_open311_field(field)}: {message}"
                            for field, messages in exc.errors.items()
                            for message in messages] or [exc.message]
            if exc.errors.get("location"):
                descriptions = [exc.message]
            response = render_errors(fmt, exc.status_code, descriptions)
            for name, value in exc.headers.items():
                response[name] = value
            return response

    return wrapped


def _open311_field(field: str) -> str:
    """Our field names in the names an Open311 client sent."""
    if field.startswith("answers."):
        return f"attribute[{field.removeprefix('answers.')}]"
    return {"location": "lat/long", "category": "service_code", "photos": "media"}.get(
        field.split(".")[0], field)


def _methods(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise Open311Error(405, f"Use {' or '.join(allowed)}.")


def _jurisdiction(request: HttpRequest, params, *, required: bool) -> Municipality | None:
    code = (params.get("jurisdiction_id") or "").strip()
    served = Municipality.objects.filter(active=True)
    if code:
        municipality = served.filter(code=code).first()
        if municipality is None:
            codes = ", ".join(served.order_by("code").values_list("code", flat=True))
            raise Open311Error(404, f"Unknown jurisdiction_id {code!r}; served: {codes}.")
        return municipality
    if required:
        if served.count() > 1:
            codes = ", ".join(served.order_by("code").values_list("code", flat=True))
            raise Open311Error(400, f"jurisdiction_id is required; one of: {codes}.")
        return served.first()
    return None


# --- discovery and services ---------------------------------------------------------------

@endpoint
def discovery(request, fmt):
    _methods(request, "GET")
    base = request.build_absolute_uri("/open311/v2/")
    return render({
        "changeset": iso(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
        "contact": f"Open311 endpoint of OS2geo, {settings.SITE_URL}",
        "key_service": f"{settings.SITE_URL}/admin/ (API clients and keys)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base, "changeset": None, "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }, fmt, "discovery")


def _service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        "metadata": bool(category.questions.all()),  # prefetched by the selector
        "type": "realtime",
        "keywords": category.kle.title,
        "group": category.group,
    }


@endpoint
def services_list(request, fmt):
    _methods(request, "GET")
    municipality = _jurisdiction(request, request.GET, required=True)
    categories = selectors.categories_for_municipality(municipality)
    return render([_service(c) for c in categories], fmt, "services")


@endpoint
def service_definition(request, fmt, service_code: str):
    _methods(request, "GET")
    municipality = _jurisdiction(request, request.GET, required=True)
    category = selectors.categories_for_municipality(municipality).filter(
        code=service_code).first()
    if category is None:
        raise Open311Error(404, f"No service {service_code!r} in {municipality.name}.")
    attributes = [{
        "variable": True,
        "code": q.code,
        "datatype": q.datatype,
        "required": q.required,
        "datatype_description": q.get_datatype_display(),
        "order": q.order,
        "description": q.question + (f" ({q.description})" if q.description else ""),
        "values": [{"key": v.get("key"), "name": v.get("name")} for v in q.values],
    } for q in category.questions.all()]
    return render({"service_code": category.code, "attributes": attributes}, fmt,
                  "service_definition")


# --- requests ------------------------------------------------------------------------------

def _float(params, name: str) -> float | None:
    raw = params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = float(raw)
    except ValueError:
        raise Open311Error(400, f"{name} must be a number.") from None
    if not math.isfinite(value):
        raise Open311Error(400, f"{name} must be a finite number.")
    return value


def _datetime(params, name: str) -> dt.datetime | None:
    raw = (params.get(name) or "").strip()
    if not raw:
        return None
    if "T" in raw and " " in raw:
        raw = raw.replace(" ", "+")  # an unencoded + in a query string
    try:
        value = parse_datetime(raw)
    except ValueError:
        value = None
    if value is None:
        raise Open311Error(400, f"{name} must be an ISO 8601 date-time (2026-11-27T08:00:00Z).")
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def _int(params, name: str, default: int, lowest: int, highest: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    if not raw.isdigit() or not lowest <= int(raw) <= highest:
        raise Open311Error(400, f"{name} must be a whole number from {lowest} to {highest}.")
    return int(raw)


def _latest_public_note():
    return Subquery(
        ReportEvent.objects.filter(report=OuterRef("pk"), kind__in=[
            ReportEvent.Kind.STATUS, ReportEvent.Kind.PUBLIC_REPLY]).exclude(public_text="")
        .order_by("-created_at", "-id").values("public_text")[:1]
    )


def _requests_queryset(*, extensions: bool = False):
    qs = (
        Report.objects.filter(public=True)
        .select_related("category", "department", "municipality")
        .prefetch_related(Prefetch("photos", queryset=Photo.objects.order_by("id")))
        .annotate(status_notes=_latest_public_note())
    )
    if extensions:  # the notes of a whole page in one query, not one per request
        qs = qs.prefetch_related(Prefetch("events", queryset=selectors.public_events(),
                                          to_attr="public_events"))
    return qs


def _request_json(report: Report, *, extensions: bool) -> dict:
    photos = list(report.photos.all())
    postcode = POSTCODE.search(report.address + " ")
    data = {
        "service_request_id": str(report.pk),
        "status": open311_status(report.status),
        "status_notes": mask_identity_numbers(report.status_notes or ""),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.public_description,
        "agency_responsible": report.department.name,
        "service_notice": "",
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.expected_at) if report.expected_at else None,
        "address": report.address,
        "address_id": None,
        "zipcode": postcode.group(1) if postcode else None,
        "lat": round(report.location.y, 7),
        "long": round(report.location.x, 7),
        "media_url": photos[0].url if photos else (report.media_url or None),
    }
    if extensions:
        data["extended_attributes"] = {
            "detailed_status": report.status,
            "jurisdiction_id": report.municipality.code,
            "version": report.version,
            # Free-text answers are citizen text like the description: masked in public.
            "answers": [{"code": code, "value": _public_answer(value)}
                        for code, value in report.answers.items()],
            "notes": [{"datetime": iso(event.created_at), "kind": event.kind,
                       "status": event.to_status or None,
                       "text": mask_identity_numbers(event.public_text)}
                      for event in report.public_events],
            "photos": [{"url": p.url, "thumbnail_url": p.thumbnail_url} for p in photos],
        }
    return data


def _public_answer(value):
    if isinstance(value, list):
        value = ",".join(map(str, value))
    return mask_identity_numbers(value) if isinstance(value, str) else value


@endpoint
def requests_view(request, fmt):
    _methods(request, "GET", "POST")
    if request.method == "POST":
        return _post_request(request, fmt)
    params = request.GET
    client = access.api_client_from_header(request) if "Authorization" in request.headers \
        else None
    access.check_rate(request, client, posting=False)
    extensions = params.get("extensions", "").lower() == "true"
    qs = _requests_queryset(extensions=extensions)
    municipality = _jurisdiction(request, params, required=False)
    if municipality:
        qs = qs.filter(municipality=municipality)
    ids = [i.strip() for i in (params.get("service_request_id") or "").split(",") if i.strip()]
    if ids:
        if not all(i.isdigit() for i in ids):
            raise Open311Error(400, "service_request_id must be a comma-separated list of ids.")
        qs = qs.filter(pk__in=[int(i) for i in ids])
    else:
        qs = _filter_requests(qs, params)
    page_size = _int(params, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    page = _int(params, "page", 1, 1, 1_000_000)
    reports = list(qs.order_by("-created_at", "-id")[(page - 1) * page_size: page * page_size])
    return render([_request_json(r, extensions=extensions) for r in reports], fmt,
                  "service_requests")


def _filter_requests(qs, params):
    codes = [c.strip() for c in (params.get("service_code") or "").split(",") if c.strip()]
    if codes:
        qs = qs.filter(category__code__in=codes)
    start, end = _datetime(params, "start_date"), _datetime(params, "end_date")
    updated_after = _datetime(params, "updated_after")
    updated_before = _datetime(params, "updated_before")
    if start is None and end is None and updated_after is None and updated_before is None:
        start = timezone.now() - dt.timedelta(days=DEFAULT_DAYS)
    if start:
        qs = qs.filter(created_at__gte=start)
    if end:
        qs = qs.filter(created_at__lte=end)
    if updated_after:
        qs = qs.filter(updated_at__gt=updated_after)
    if updated_before:
        qs = qs.filter(updated_at__lt=updated_before)
    statuses = [s.strip() for s in (params.get("status") or "").split(",") if s.strip()]
    if statuses:
        if set(statuses) - {"open", "closed"}:
            raise Open311Error(400, "status must be open, closed or open,closed.")
        wanted = set()
        if "open" in statuses:
            wanted |= OPEN_STATUSES
        if "closed" in statuses:
            wanted |= CLOSED_STATUSES
        qs = qs.filter(status__in=list(wanted))
    if params.get("bbox"):
        parts = params["bbox"].split(",")
        if len(parts) != 4:
            raise Open311Error(400, "bbox must be minlon,minlat,maxlon,maxlat.")
        box = [_float({"bbox": p}, "bbox") for p in parts]
        if not (valid_lon_lat(box[0], box[1]) and valid_lon_lat(box[2], box[3])
                and box[0] < box[2] and box[1] < box[3]):
            raise Open311Error(400, "bbox must be minlon,minlat,maxlon,maxlat in WGS84.")
        qs = qs.filter(location__intersects=Polygon.from_bbox(box))
    lat, lon = _float(params, "lat"), _float(params, "long")
    if (lat is None) != (lon is None):
        raise Open311Error(400, "Give both lat and long.")
    if lat is not None:
        if not valid_lon_lat(lon, lat):
            raise Open311Error(400, "lat/long are out of range.")
        radius = _float(params, "radius") or 500.0
        if not 0 < radius <= 50_000:
            raise Open311Error(400, "radius must be from 1 to 50000 metres.")
        point = Point(lon, lat, srid=4326)
        qs = qs.filter(location__intersects=metres_envelope(point, radius),
                       location__distance_lte=(point, D(m=radius)))
    return qs


@endpoint
def request_detail(request, fmt, request_id: str):
    _methods(request, "GET")
    if not request_id.isdigit():
        raise Open311Error(404, f"No service request {request_id!r}.")
    extensions = request.GET.get("extensions", "").lower() == "true"
    report = _requests_queryset(extensions=extensions).filter(pk=int(request_id)).first()
    if report is None:
        raise Open311Error(404, f"No service request {request_id}.")
    return render([_request_json(report, extensions=extensions)], fmt, "service_requests")


@endpoint
def token_detail(request, fmt, token: str):
    _methods(request, "GET")
    report = None
    if re.fullmatch(r"[0-9a-fA-F-]{32,36}", token):
        report = Report.objects.filter(token=token, public=True).only("id", "token").first()
    if report is None:
        raise Open311Error(404, f"No request with token {token!r}.")
    return render([{"service_request_id": str(report.pk), "token": str(report.token)}], fmt,
                  "service_requests")


@endpoint
def request_updates(request, fmt):
    """mySociety's extension: public status changes and replies, for syncing."""
    _methods(request, "GET")
    params = request.GET
    start = _datetime(params, "start_date") or timezone.now() - dt.timedelta(days=7)
    end = _datetime(params, "end_date")
    qs = (ReportEvent.objects.filter(kind__in=[ReportEvent.Kind.STATUS,
                                               ReportEvent.Kind.PUBLIC_REPLY],
                                     created_at__gte=start, report__public=True)
          .select_related("report"))
    if end:
        qs = qs.filter(created_at__lte=end)
    municipality = _jurisdiction(request, params, required=False)
    if municipality:
        qs = qs.filter(report__municipality=municipality)
    page_size = _int(params, "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
    updates = [{
        "update_id": str(event.pk),
        "service_request_id": str(event.report_id),
        "status": open311_status(event.to_status or event.report.status),
        "updated_datetime": iso(event.created_at),
        "description": mask_identity_numbers(event.public_text),
        "media_url": None,
    } for event in qs.order_by("created_at", "id")[:page_size]]
    return render(updates, fmt, "service_request_updates")


# --- posting --------------------------------------------------------------------------------

def _attributes(post) -> dict:
    """attribute[code]=value and attribute[code][]=value (multi-value) form fields."""
    answers: dict[str, object] = {}
    for name in post:
        match = re.fullmatch(r"attribute\[([^\]]+)\](\[\])?", name)
        if match:
            values = post.getlist(name)
            answers[match.group(1)] = values if match.group(2) or len(values) > 1 else values[0]
    return answers


def _location(post) -> Point:
    lat, lon = _float(post, "lat"), _float(post, "long")
    if lat is not None or lon is not None:
        if lat is None or lon is None:
            raise Open311Error(400, "Give both lat and long.")
        if not valid_lon_lat(lon, lat):
            raise Open311Error(400, "lat must lie in [-90, 90] and long in [-180, 180].")
        return Point(lon, lat, srid=4326)
    address = (post.get("address_string") or "").strip()
    if not address:
        raise Open311Error(400, "A location is required: lat and long, or address_string.")
    matches = list(addresses_search(address, limit=2))
    exact = [a for a in matches if a.search_text == " ".join(address.lower().split())]
    if exact:
        return exact[0].location
    if len(matches) == 1:
        return matches[0].location
    if not matches:
        raise Open311Error(400, f"address_string {address!r} matches no known address; "
                                "send lat and long.")
    raise Open311Error(400, f"address_string {address!r} matches several addresses; give the "
                            "full address (street, number, postcode, town) or lat and long.")


def _post_request(request, fmt):
    client = access.client_for_key(request.POST.get("api_key")) if request.POST.get(
        "api_key") else None
    if client is None:
        raise Open311Error(403, "api_key is missing or not valid.")
    access.check_rate(request, client, posting=True)
    return run_idempotent(request, access.idempotency_scope(request, client),
                          lambda: _create(request, fmt, client))


def _create(request, fmt, client) -> HttpResponse:
    post = request.POST
    service_code = (post.get("service_code") or "").strip()
    if not service_code:
        raise Open311Error(400, "service_code is required.")
    location = _location(post)
    jurisdiction = _jurisdiction(request, post, required=False)
    municipality = services.municipality_serving(location)
    if jurisdiction and jurisdiction != municipality:
        raise Open311Error(400, f"The location lies in {municipality.name}, not in "
                                f"jurisdiction {jurisdiction.code}.")
    name = " ".join(p for p in (post.get("first_name", "").strip(),
                                post.get("last_name", "").strip()) if p)
    email = post.get("email", "").strip()
    if len(email) > EMAIL_MAX_LENGTH:  # before any pattern sees it
        raise Open311Error(400, f"email is longer than {EMAIL_MAX_LENGTH} characters.")
    if email:
        # Django's validator (a hand-written pattern here was quadratic on long input).
        try:
            validate_email(email)
        except ValidationError:
            raise Open311Error(400, "email is not a valid address.") from None
    media_url = post.get("media_url", "").strip()
    if media_url and not re.fullmatch(r"https?://\S+", media_url):
        raise Open311Error(400, "media_url must be an http(s) URL.")
    uploads = request.FILES.getlist("media")
    photos = []
    for upload in uploads:
        if upload.size > settings.PHOTO_MAX_BYTES:
            raise Open311Error(413, f"media may be at most {settings.PHOTO_MAX_BYTES} bytes.")
        photos.append(upload.read())
    report = services.report_create(
        location=location, category_code=service_code,
        description=post.get("description", ""), address=post.get("address_string", ""),
        reporter=services.Reporter(name=name[:200], email=email,
                                   phone=post.get("phone", "").strip()[:40]),
        answers=_attributes(post), photos=photos,
        client=services.ClientInfo(api_client=client, device_id=post.get("device_id", ""),
                                   account_id=post.get("account_id", ""), media_url=media_url),
        source=Report.Source.OPEN311,
    )
    return render([{
        "service_request_id": str(report.pk),
        "token": str(report.token),
        "service_notice": f"Sent to {report.department.name}, {municipality.name}.",
        "account_id": report.account_id or None,
    }], fmt, "service_requests", status=201)
