"""OpenAPI descriptions of the REST views (drf-spectacular). Kept apart from the views so
that they stay thin; the shapes here are documented, the views produce them."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema

from reports.api.serializers import (
    AddressQuery,
    AreaQuery,
    AssetNearestQuery,
    AssetTileQuery,
    ReportCreateInput,
    ReportListQuery,
    TileQuery,
)

ERROR = OpenApiResponse(OpenApiTypes.OBJECT, description=(
    'Bad input: {"message": "…", "errors": {"field": ["…"]}}'))
FEATURE = OpenApiResponse(OpenApiTypes.OBJECT, description=(
    "A GeoJSON Feature: id, geometry (Point, [lon, lat]), properties: status, category "
    "{code, name}, kle, department {id, name}, responsible_body ({name, kind} when a "
    "body other than the municipality has it, else null), municipality {code, name}, "
    "description, "
    "address, duplicate_of, photos [{url, thumbnail_url}], media_url, created_at, "
    "updated_at, expected_datetime (when handling is due), version."))

report_list = extend_schema(
    operation_id="reports_list",
    summary="Public reports as a GeoJSON FeatureCollection, newest first",
    parameters=[ReportListQuery],
    responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description=(
        "FeatureCollection with `numberReturned` and `next` (the URL of the next page or "
        "null); with `view=map`, lean Features and `categories` naming the page's "
        "categories.")), 400: ERROR},
)
report_create = extend_schema(
    summary="File a report",
    description=("JSON body, or multipart/form-data with the same JSON document in the "
                 "`report` field and `photo` files. Optional headers: `Idempotency-Key`, "
                 "`Authorization: Api-Key …`."),
    request={"application/json": ReportCreateInput,
             "multipart/form-data": OpenApiTypes.OBJECT},
    parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER)],
    responses={201: FEATURE, 400: ERROR, 403: ERROR, 409: ERROR, 413: ERROR, 415: ERROR,
               422: ERROR, 429: ERROR},
    examples=[OpenApiExample("A pothole in Ballerup", value={
        "location": {"type": "Point", "coordinates": [12.3633, 55.73]},
        "category": "pothole", "description": "Dybt hul i cykelstien"}, request_only=True)],
)
report_detail = extend_schema(operation_id="reports_retrieve",
                              summary="One public report with its public timeline",
                              responses={200: FEATURE, 404: ERROR})
report_photos = extend_schema(
    summary="Add a photo to a report (multipart field `photo`)",
    parameters=[OpenApiParameter("X-Photo-Token", str, OpenApiParameter.HEADER)],
    request={"multipart/form-data": OpenApiTypes.OBJECT},
    responses={201: OpenApiTypes.OBJECT, 403: ERROR, 404: ERROR, 413: ERROR, 415: ERROR},
)
categories = extend_schema(
    summary="Categories open at a point (lon, lat) or in a municipality",
    parameters=[OpenApiParameter("lon", float), OpenApiParameter("lat", float),
                OpenApiParameter("municipality", str)],
    responses={200: OpenApiTypes.OBJECT, 400: ERROR},
)
municipalities = extend_schema(summary="Served municipalities",
                               responses={200: OpenApiTypes.OBJECT})
areas = extend_schema(summary="Areas as GeoJSON", parameters=[AreaQuery],
                      responses={200: OpenApiTypes.OBJECT, 400: ERROR})
address_search = extend_schema(summary="Address prefix search", parameters=[AddressQuery],
                               responses={200: OpenApiTypes.OBJECT, 400: ERROR})
address_nearest = extend_schema(
    summary="The nearest imported address",
    parameters=[OpenApiParameter("lon", float, required=True),
                OpenApiParameter("lat", float, required=True)],
    responses={200: OpenApiTypes.OBJECT, 400: ERROR, 404: ERROR})
health = extend_schema(summary="Each dependency reachable, by name (503 while the database "
                               "is down)",
                       responses={200: OpenApiTypes.OBJECT, 503: OpenApiTypes.OBJECT})
report_follow = extend_schema(
    summary="Follow a report by mail (double opt-in)",
    request={"application/json": OpenApiTypes.OBJECT},
    responses={202: OpenApiTypes.OBJECT, 400: ERROR, 404: ERROR})
alert_create = extend_schema(
    summary="Mail about new reports in an area or near a point (double opt-in)",
    request={"application/json": OpenApiTypes.OBJECT},
    responses={202: OpenApiTypes.OBJECT, 400: ERROR})
report_tile = extend_schema(
    summary="Public reports as a Mapbox Vector Tile (web mercator XYZ)",
    description=("Layer `clusters` (count, open) at and below zoom TILE_CLUSTER_MAX_ZOOM; "
                 "above it layer `reports` (id, status, category code), or clusters where "
                 "the tile holds more than TILE_MAX_POINTS reports, except at TILE_MAX_ZOOM. "
                 "Sends an ETag; If-None-Match gets 304."),
    parameters=[TileQuery],
    responses={(200, "application/vnd.mapbox-vector-tile"): OpenApiTypes.BINARY,
               304: None, 400: ERROR, 404: ERROR},
)
asset_tile = extend_schema(
    summary="Assets of some types as a Mapbox Vector Tile (web mercator XYZ), from zoom 15",
    description=("Layer `assets`: id, label, asset_type (its id) and open_reports (how many "
                 "open public reports name it). Tiles below zoom 15 are empty."),
    parameters=[AssetTileQuery],
    responses={(200, "application/vnd.mapbox-vector-tile"): OpenApiTypes.BINARY,
               400: ERROR, 404: ERROR},
)
asset_nearest = extend_schema(
    summary="The assets nearest a point, each within its type's select distance",
    description=("`assets`: id, external_id, label, type {id, code, name}, location, "
                 "distance_m and open_reports (ids of open public reports about it: offer "
                 "to follow one instead of filing another)."),
    parameters=[AssetNearestQuery],
    responses={200: OpenApiTypes.OBJECT, 400: ERROR},
)
