"""REST API v1 (GeoJSON, RFC 7946: [longitude, latitude]). Thin: parse, call, render."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json

from django.conf import settings
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.utils.translation import get_language
from rest_framework import status
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from geoservice.errors import ApplicationError, NotFound, render_error
from geoservice.lib import health, replica
from maps.geo import simplified
from maps.selectors import addresses_search, nearest_address
from reports import selectors, services
from reports.api import access, schema
from reports.api.idempotency import run_idempotent
from reports.api.serializers import (
    AddressQuery,
    AlertInput,
    AreaOutput,
    AreaQuery,
    AssetNearestQuery,
    AssetTileQuery,
    CategoryOutput,
    FollowInput,
    MunicipalityOutput,
    PointQuery,
    ReportCreateInput,
    ReportListQuery,
    TileQuery,
)
from reports.models import Report
from reports.photos import read_uploads
from reports.tiles import Tile, TileFilters, assets_tile, reports_tile

GEOJSON = "application/geo+json"


def _query(serializer_class, request):
    serializer = serializer_class(data=request.query_params)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def _encode_cursor(report_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{report_id}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
        kind, value = raw.split(":", 1)
        if kind != "id" or not value.isdigit():
            raise ValueError
        return int(value)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise ValidationError({"cursor": ["Invalid cursor; use the `next` link as given."]}) \
            from None


def _feature_response(feature_json: str, *, extra: str = "", status_code: int = 200):
    """A Feature built by the database, optionally with extra members spliced in."""
    body = feature_json if not extra else feature_json[:-1] + "," + extra + "}"
    return HttpResponse(body, status=status_code, content_type=GEOJSON)


class WriteView(APIView):
    """The REST views that take writes (reports, photos, follows, alerts): an optional API
    key (`Authorization: Api-Key …`), the rate limits, and Idempotency-Key handling for
    POSTs (reports.api.idempotency). The read-only views are plain DRF views."""

    def dispatch(self, request, *args, **kwargs):
        try:
            client = access.api_client_from_header(request)
            access.check_rate(request, client, posting=request.method == "POST")
            request.api_client = client
            if request.method != "POST":
                return super().dispatch(request, *args, **kwargs)
            return run_idempotent(request, access.idempotency_scope(request, client),
                                  lambda: super(WriteView, self).dispatch(request, *args, **kwargs))
        except ApplicationError as exc:  # refused before DRF's own handling
            return render_error(request, exc)


class ReportListCreate(WriteView):
    """GET: public reports as a FeatureCollection; POST: file a new report (JSON, or
    multipart with the JSON document in the `report` field and `photo` files)."""

    parser_classes = [JSONParser, MultiPartParser]

    @schema.report_list
    @method_decorator(replica.public_read)
    def get(self, request):
        params = _query(ReportListQuery, request)
        limit = min(params.get("limit", settings.API_PAGE_SIZE), settings.API_MAX_PAGE_SIZE)
        filters = selectors.ReportFilters(
            bbox=params.get("bbox"),
            near=params.get("near"),
            radius_m=params.get("radius", 500) if "near" in params else None,
            statuses=params.get("status", []),
            categories=params.get("category", []),
            kle_prefix=params.get("kle"),
            municipality_codes=params.get("municipality", []),
            department_ids=params.get("department", []),
            asset_ids=params.get("asset", []),
            updated_after=params.get("updated_after"),
            before_id=_decode_cursor(params["cursor"]) if "cursor" in params else None,
        )
        page = selectors.public_features_page(filters, limit, view=params["view"])
        next_url = "null"
        if page.next_id is not None:
            query = request.GET.copy()
            query["cursor"] = _encode_cursor(page.next_id)
            query["limit"] = str(limit)
            url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
            next_url = '"' + url.replace("\\", "\\\\").replace('"', '\\"') + '"'
        categories = f'"categories":{page.categories},' if page.categories is not None else ""
        body = (
            '{"type":"FeatureCollection","features":[' + page.features + "]," + categories
            + f'"numberReturned":{page.count},"next":{next_url}}}'
        )
        return HttpResponse(body, content_type=GEOJSON)

    @schema.report_create
    def post(self, request):
        photos: list[bytes] = []
        payload = request.data
        if request.content_type.startswith("multipart/form-data"):
            try:
                payload = json.loads(request.data.get("report", ""))
            except ValueError:
                raise ValidationError(
                    {"report": ["Put the report as a JSON document in the `report` field."]}
                ) from None
            photos = read_uploads(request.FILES.getlist("photo"), "photo")
        serializer = ReportCreateInput(data=payload)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        reporter = data.get("reporter") or {}
        client = request.api_client
        report = services.report_create(
            location=data["location"],
            category_code=data["category"],
            description=data["description"],
            address=data.get("address", ""),
            reporter=services.Reporter(**reporter),
            answers=data.get("answers") or {},
            asset_id=data.get("asset"),
            photos=photos,
            client=services.ClientInfo(api_client=client),
            source=Report.Source.API if client else Report.Source.WEB,
            language=getattr(request, "LANGUAGE_CODE", "da"),
        )
        if report.private and report.confirmed_at is not None:
            # Filed, and never public (a private category): no feature to show anyone.
            return Response({"id": report.id, "public": False, "private": True,
                             "message": "Filed. The report is not public; you get a "
                                        "private link by mail if you gave an address."},
                            status=status.HTTP_201_CREATED)
        if not report.public:
            return Response({
                "id": report.id, "confirmation_required": True,
                "message": "Check your mail: the report is sent on when you confirm it.",
            }, status=status.HTTP_202_ACCEPTED)
        feature = selectors.public_feature(report.id)
        if feature is None:  # staff hid it in the moment since it was filed
            return Response({"id": report.id, "public": False}, status=status.HTTP_201_CREATED)
        token = json.dumps(access.photo_token(report.id))
        response = _feature_response(feature, extra=f'"photo_upload_token":{token}',
                                     status_code=status.HTTP_201_CREATED)
        response["Location"] = request.build_absolute_uri(f"/api/v1/reports/{report.id}/")
        return response


class ReportPhotos(WriteView):
    """POST one photo (multipart field `photo`) to a report: with the `photo_upload_token`
    its creation returned (header `X-Photo-Token`, for an hour), or with an API key whose
    scope covers the report."""

    parser_classes = [MultiPartParser]

    @schema.report_photos
    def post(self, request, report_id: int):
        report = selectors.report_scope(report_id)
        if report is None:
            raise NotFound(f"No report {report_id}.")
        if not access.may_add_photo(report, request.api_client,
                                    request.headers.get("X-Photo-Token", "")):
            raise access.InvalidApiKey(
                "Send the photo_upload_token of the report's creation as X-Photo-Token, "
                "or an API key for this municipality.")
        uploads = request.FILES.getlist("photo")
        if len(uploads) != 1:
            raise ValidationError({"photo": ["Send exactly one file in the `photo` field."]})
        photo = services.photo_add(report_id=report.id,
                                   data=read_uploads(uploads, "photo")[0])
        return Response({"url": photo.url, "thumbnail_url": photo.thumbnail_url,
                         "width": photo.width, "height": photo.height},
                        status=status.HTTP_201_CREATED)


class ReportFollow(WriteView):
    """POST {"email": …}: follow a report ("this is my problem too"); a confirmation mail
    is sent (double opt-in)."""

    @schema.report_follow
    def post(self, request, report_id: int):
        serializer = FollowInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.report_follow(report_id=report_id, email=serializer.validated_data["email"],
                               language=getattr(request, "LANGUAGE_CODE", "da"),
                               follow_up=serializer.validated_data["follow_up"])
        return Response({"message": "Check your mail and confirm to follow this report."},
                        status=status.HTTP_202_ACCEPTED)


class AlertCreate(WriteView):
    """POST {"email", "area": id | "near": Point + "radius", "frequency"}: mail about new
    reports there, after the address is confirmed (double opt-in)."""

    @schema.alert_create
    def post(self, request):
        serializer = AlertInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        services.alert_subscribe(
            email=data["email"], area_id=data.get("area"), location=data.get("near"),
            radius_m=data["radius"], frequency=data["frequency"],
            language=getattr(request, "LANGUAGE_CODE", "da"))
        return Response({"message": "Check your mail and confirm the alert."},
                        status=status.HTTP_202_ACCEPTED)


class ReportDetail(APIView):
    @schema.report_detail
    @method_decorator(replica.public_read)
    def get(self, request, report_id: int):
        feature = selectors.public_feature(report_id)
        if feature is None:
            raise NotFound(f"No report {report_id}.")
        timeline = json.dumps(selectors.public_timeline(report_id), ensure_ascii=False)
        return _feature_response(feature, extra=f'"timeline":{timeline}')


class ReportTile(APIView):
    """Public reports as a vector tile for the map (reports.tiles)."""

    @schema.report_tile
    @method_decorator(replica.public_read)
    def get(self, request, z: int, x: int, y: int):
        tile = Tile(z, x, y)
        if not tile.is_valid():
            raise NotFound(f"No tile {z}/{x}/{y}: zoom 0-22, x and y below 2^zoom.")
        params = _query(TileQuery, request)
        data = reports_tile(tile, TileFilters(statuses=params.get("status", []),
                                              categories=params.get("category", [])))
        etag = '"' + hashlib.blake2b(data, digest_size=12).hexdigest() + '"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
        response["ETag"] = etag
        max_age = settings.TILE_MAX_AGE_SECONDS
        # no-cache: browsers keep the tile but ask again each time (a cheap 304 when
        # nothing changed), so a citizen who just filed a report sees it after a reload.
        response["Cache-Control"] = f"public, max-age={max_age}" if max_age else "public, no-cache"
        return response


class AssetTile(APIView):
    """Assets of the given types as a vector tile (layer `assets`: id, label, asset_type,
    open_reports), from zoom 15 (reports.tiles)."""

    @schema.asset_tile
    @method_decorator(replica.public_read)
    def get(self, request, z: int, x: int, y: int):
        tile = Tile(z, x, y)
        if not tile.is_valid():
            raise NotFound(f"No tile {z}/{x}/{y}: zoom 0-22, x and y below 2^zoom.")
        params = _query(AssetTileQuery, request)
        data = assets_tile(tile, params["type"])
        response = HttpResponse(data, content_type="application/vnd.mapbox-vector-tile")
        # Open reports come and go: browsers ask again each time.
        response["Cache-Control"] = "public, no-cache"
        return response


class AssetNearest(APIView):
    """The assets nearest a point, of the given types, each within its type's distance."""

    @schema.asset_nearest
    @method_decorator(replica.public_read)
    def get(self, request):
        params = _query(AssetNearestQuery, request)
        found = selectors.assets_near(params["point"], params["type"], limit=params["limit"])
        return Response({"assets": [{
            "id": near.asset.pk, "external_id": near.asset.external_id,
            "label": near.asset.label,
            "type": {"id": near.asset.asset_type_id, "code": near.asset.asset_type.code,
                     "name": near.asset.asset_type.name},
            "location": {"type": "Point", "coordinates": [
                round(near.asset.location.x, 7), round(near.asset.location.y, 7)]},
            "distance_m": round(near.distance_m, 1),
            "open_reports": near.open_report_ids} for near in found]})


class CategoryList(APIView):
    """Categories open at a point (`lon`, `lat`) or in a municipality (`municipality`)."""

    @schema.categories
    def get(self, request):
        if "municipality" in request.query_params and "lon" not in request.query_params:
            code = request.query_params["municipality"]
            municipality = selectors.served_municipality(code)
            if municipality is None:
                raise ValidationError({"municipality": [f"No served municipality {code!r}."]})
            point = None
        else:
            point = _query(PointQuery, request)["point"]
            municipality = services.municipality_serving(point)
        categories = list(selectors.categories_for_municipality(municipality))
        notices = selectors.notices_by_category(
            selectors.notices_at(municipality, point, language=get_language() or "da"),
            [c.code for c in categories])
        return Response({
            "municipality": {"code": municipality.code, "name": municipality.name},
            "categories": [{**data, "notices": notices[data["code"]]} for data in
                           CategoryOutput(categories, many=True).data],
        })


class MunicipalityList(APIView):
    @schema.municipalities
    def get(self, request):
        municipalities = selectors.served_municipalities().order_by("name")
        return Response(MunicipalityOutput(municipalities, many=True).data)


class AreaList(APIView):
    @schema.areas
    def get(self, request):
        params = _query(AreaQuery, request)
        areas = list(selectors.areas_listed(
            kind=params.get("kind"), municipality_code=params.get("municipality")
        ))
        tolerance = params.get("simplify")
        if tolerance:
            for area in areas:
                area.geom = simplified(area.geom, tolerance)
        data = AreaOutput(areas, many=True).data
        return Response(data, content_type=GEOJSON)


class AddressSearch(APIView):
    @schema.address_search
    def get(self, request):
        params = _query(AddressQuery, request)
        addresses = addresses_search(params["q"], limit=params["limit"])
        return Response({"results": [_address_json(a) for a in addresses]})


class AddressNearest(APIView):
    @schema.address_nearest
    def get(self, request):
        point = _query(PointQuery, request)["point"]
        found = nearest_address(point)
        if found is None:
            raise NotFound("No addresses are imported.")
        return Response({**_address_json(found.address),
                         "distance_m": round(found.distance_m, 1)})


def _address_json(address) -> dict:
    return {
        "label": address.label,
        "street": address.street_name,
        "house_number": address.house_number,
        "postcode": address.postcode,
        "postal_name": address.postal_name,
        "municipality_code": address.municipality_code,
        "location": {"type": "Point", "coordinates": [address.location.x, address.location.y]},
    }


class Health(APIView):
    """Each dependency reachable or not, by name; 503 with Retry-After while the database is
    down (Redis or the shared cache down: 200, "degraded": reports are still filed and
    served, live updates or shared rate limits wait). No versions: they help attackers more
    than operators, who have the servers' own tools."""

    @schema.health
    def get(self, request):
        checks = health.checks()
        database_ok = checks["database"]["ok"]
        state = "ok" if all(c["ok"] for c in checks.values()) else (
            "degraded" if database_ok else "unavailable")
        response = Response({"status": state, "checks": checks},
                            status=200 if database_ok else 503)
        if not database_ok:
            response["Retry-After"] = str(settings.OUTAGE_RETRY_AFTER_SECONDS)
        response["Cache-Control"] = "no-store"
        return response
