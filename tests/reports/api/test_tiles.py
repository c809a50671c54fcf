"""GET /api/v1/tiles/reports/{z}/{x}/{y}.mvt: public reports as vector tiles."""

from __future__ import annotations

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point

from maps.tiles import lonlat_to_tile
from reports import services
from reports.models import Report
from tests.reports.factories import BALLERUP_TOWN

pytestmark = pytest.mark.django_db


def tile_path(lon, lat, z, query=""):
    x, y = lonlat_to_tile(lon, lat, z)
    return f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt{query}"


def decode(response) -> dict:
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content) if response.content else {}


def file(world, *, lon=BALLERUP_TOWN[0], lat=BALLERUP_TOWN[1], category="pothole",
         email="a@example.dk"):
    return services.report_create(location=Point(lon, lat, srid=4326), category_code=category,
                                  description="Hul", reporter=services.Reporter(email=email))


def test_a_report_is_in_its_tile_with_public_fields_only(client, world):
    report = file(world, email="hemmelig@example.dk")
    layers = decode(client.get(tile_path(*BALLERUP_TOWN, 16)))
    features = layers["reports"]["features"]
    assert [f["id"] for f in features] == [report.pk]
    assert features[0]["properties"] == {"status": "submitted", "category": "pothole"}
    assert b"hemmelig" not in client.get(tile_path(*BALLERUP_TOWN, 16)).content


def test_neighbouring_tile_does_not_have_it_and_reports_not_public_never_show(client, world):
    report = file(world)
    lon, lat = BALLERUP_TOWN
    assert decode(client.get(tile_path(lon + 0.05, lat, 16))) == {}
    Report.objects.filter(pk=report.pk).update(confirmed_at=None)
    assert decode(client.get(tile_path(lon, lat, 16))) == {}
    Report.objects.filter(pk=report.pk).update(confirmed_at=report.created_at, hidden=True)
    assert decode(client.get(tile_path(lon, lat, 16))) == {}


def test_status_and_category_filters(client, world):
    pothole = file(world)
    litter = file(world, category="litter")
    services.report_transition(report_id=litter.pk, to_status="resolved")
    path = tile_path(*BALLERUP_TOWN, 15)

    def ids(query):
        layers = decode(client.get(path + query))
        return sorted(f["id"] for f in layers.get("reports", {}).get("features", []))

    assert ids("") == sorted([pothole.pk, litter.pk])
    assert ids("?status=submitted") == [pothole.pk]
    assert ids("?category=litter") == [litter.pk]
    assert ids("?status=submitted&category=litter") == []


def test_low_zooms_send_counted_clusters(client, world):
    lon, lat = BALLERUP_TOWN
    for i in range(3):
        file(world, lon=lon + i * 0.0001, lat=lat)
    resolved = file(world, lon=lon, lat=lat + 0.0001)
    services.report_transition(report_id=resolved.pk, to_status="resolved")
    layers = decode(client.get(tile_path(lon, lat, 9)))
    assert "reports" not in layers
    clusters = layers["clusters"]["features"]
    assert sum(c["properties"]["count"] for c in clusters) == 4
    assert sum(c["properties"]["open"] for c in clusters) == 3


def test_etag_gives_304_until_something_changes(client, world):
    report = file(world)
    path = tile_path(*BALLERUP_TOWN, 16)
    first = client.get(path)
    assert first["Cache-Control"] == "public, no-cache"
    assert client.get(path, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304
    services.report_transition(report_id=report.pk, to_status="acknowledged")
    changed = client.get(path, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"]


@pytest.mark.parametrize("path", ["/api/v1/tiles/reports/3/8/1.mvt",
                                  "/api/v1/tiles/reports/23/0/0.mvt",
                                  "/api/v1/tiles/reports/2/1/4.mvt"])
def test_tiles_that_do_not_exist_are_404(client, world, path):
    response = client.get(path)
    assert response.status_code == 404
    assert "No tile" in response.json()["message"]


def test_unknown_status_is_400_with_the_field_named(client, world):
    response = client.get(tile_path(*BALLERUP_TOWN, 14, "?status=fixed"))
    assert response.status_code == 400
    assert "status" in response.json()["errors"]


def test_a_crowded_tile_sends_clusters_but_the_deepest_tiles_every_report(client, world,
                                                                           settings):
    settings.TILE_MAX_POINTS = 3
    lon, lat = BALLERUP_TOWN
    for i in range(3):
        file(world, lon=lon + i * 0.0001, lat=lat)
    layers = decode(client.get(tile_path(lon, lat, 14)))
    assert "clusters" not in layers and len(layers["reports"]["features"]) == 3
    file(world, lon=lon, lat=lat + 0.0001)
    layers = decode(client.get(tile_path(lon, lat, 14)))
    assert "reports" not in layers
    assert sum(c["properties"]["count"] for c in layers["clusters"]["features"]) == 4
    deepest = decode(client.get(tile_path(lon, lat, settings.TILE_MAX_ZOOM)))
    assert "clusters" not in deepest and len(deepest["reports"]["features"]) == 4


@pytest.mark.parametrize("z", [12, 16])
def test_points_are_placed_where_postgis_places_them(client, world, z):
    from django.db import connection

    lon, lat = BALLERUP_TOWN
    reports = [file(world, lon=lon + dx, lat=lat + dy)
               for dx, dy in ((0, 0), (0.00031, -0.00017), (-0.00042, 0.00023))]
    x, y = lonlat_to_tile(lon, lat, z)
    features = decode(client.get(f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt"))["reports"][
        "features"]
    with connection.cursor() as cursor:  # PostGIS's own projection and scaling, per report
        cursor.execute(
            "SELECT r.id, ST_X(g), ST_Y(g) FROM reports_report r, LATERAL ST_AsMVTGeom("
            "ST_Transform(r.location, 3857), ST_TileEnvelope(%s, %s, %s), 4096, 64, true) g "
            "WHERE r.id = ANY(%s)", [z, x, y, [report.pk for report in reports]])
        expected = {row[0]: (row[1], 4096 - row[2]) for row in cursor.fetchall()}
    assert len(features) == 3
    for feature in features:
        # the decoder flips y back to upwards: compare in its orientation
        px, py = feature["geometry"]["coordinates"]
        ex, ey = expected[feature["id"]]
        assert abs(px - ex) <= 1 and abs(py - ey) <= 1, (feature, expected)
