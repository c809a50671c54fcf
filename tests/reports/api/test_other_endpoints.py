"""Categories, municipalities, areas, addresses and health."""

from __future__ import annotations

import pytest

from tests.reports.factories import BALLERUP_TOWN, ODENSE


def test_categories_at_a_point_are_the_municipalitys_active_ones(api, world):
    response = api.get("/api/v1/categories/", {"lon": BALLERUP_TOWN[0], "lat": BALLERUP_TOWN[1]})
    assert response.status_code == 200
    data = response.json()
    assert data["municipality"]["code"] == "0151"
    codes = [c["code"] for c in data["categories"]]
    assert sorted(codes) == ["litter", "playground", "pothole"]  # "closed" is inactive
    pothole = next(c for c in data["categories"] if c["code"] == "pothole")
    assert pothole["kle"] == {"number": "05.01.08",
                              "title": "Vejvedligeholdelse og vejrenovering"}
    assert pothole["anonymous_allowed"] is True


def test_categories_by_municipality_code(api, world):
    response = api.get("/api/v1/categories/", {"municipality": "0101"})
    assert response.json()["municipality"]["code"] == "0101"
    assert api.get("/api/v1/categories/", {"municipality": "9999"}).status_code == 400


def test_categories_outside_every_municipality_name_the_nearest(api, world):
    response = api.get("/api/v1/categories/", {"lon": ODENSE[0], "lat": ODENSE[1]})
    assert response.status_code == 400
    assert "Ballerup Kommune (0151)" in response.json()["message"]


@pytest.mark.parametrize("params", [{}, {"lon": "12"}, {"lon": "x", "lat": "55"},
                                    {"lon": "12", "lat": "100"}])
def test_categories_with_bad_point_are_400(api, world, params):
    response = api.get("/api/v1/categories/", params)
    assert response.status_code == 400
    assert response.json()["errors"]


def test_municipalities_lists_served_ones_with_bbox(api, world):
    data = api.get("/api/v1/municipalities/").json()
    assert [m["code"] for m in data] == ["0151", "0101"] or \
        sorted(m["code"] for m in data) == ["0101", "0151"]
    ballerup = next(m for m in data if m["code"] == "0151")
    min_lon, min_lat, max_lon, max_lat = ballerup["bbox"]
    assert min_lon < BALLERUP_TOWN[0] < max_lon and min_lat < BALLERUP_TOWN[1] < max_lat


def test_areas_by_kind_and_municipality_with_simplify(api, world):
    response = api.get("/api/v1/areas/", {"kind": "district", "municipality": "0151"})
    assert response.status_code == 200
    data = response.json()
    assert data["type"] == "FeatureCollection"
    assert sorted(f["properties"]["code"] for f in data["features"]) == [
        "2620", "2730", "2740", "2750", "2760", "3500"]
    full = api.get("/api/v1/areas/", {"kind": "municipality", "municipality": "0101"}).json()
    simple = api.get("/api/v1/areas/", {"kind": "municipality", "municipality": "0101",
                                        "simplify": "0.01"}).json()

    def vertices(collection):
        return len(str(collection["features"][0]["geometry"]["coordinates"]))
    assert full["features"][0]["properties"]["code"] == "0101"
    assert vertices(simple) < vertices(full)
    assert api.get("/api/v1/areas/", {"kind": "planet"}).status_code == 400
    assert api.get("/api/v1/areas/", {"simplify": "5"}).status_code == 400


def test_address_search_and_nearest(api, world):
    data = api.get("/api/v1/addresses/", {"q": "Borgmester Christiansens Gade 45"}).json()
    assert data["results"][0]["label"] == "Borgmester Christiansens Gade 45, 2450 København SV"
    assert data["results"][0]["location"]["type"] == "Point"
    assert api.get("/api/v1/addresses/", {"q": "B"}).status_code == 400
    nearest = api.get("/api/v1/addresses/nearest/", {"lon": 12.5368, "lat": 55.6487}).json()
    assert nearest["label"] == "Borgmester Christiansens Gade 45, 2450 København SV"
    assert 20 < nearest["distance_m"] < 40
    assert api.get("/api/v1/addresses/nearest/", {"lon": "a", "lat": 55}).status_code == 400


def test_health_names_each_dependency_and_no_versions(api, db):
    for url in ("/api/v1/health", "/api/v1/health/"):
        response = api.get(url)
        assert response.status_code == 200
        assert response.json() == {"status": "ok", "checks": {"database": {"ok": True}}}
        assert "PostgreSQL" not in response.content.decode()


def test_health_says_which_dependency_is_down(api, db, settings):
    from tests.servers import free_port

    settings.REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    data = api.get("/api/v1/health").json()
    assert data["status"] == "degraded"
    assert data["checks"]["database"] == {"ok": True}
    assert data["checks"]["channel_layer"]["ok"] is False


def test_map_page_is_configured_for_the_served_municipalities(client, world, settings):
    settings.BASEMAP_STYLE = "none"
    response = client.get("/")
    assert response.status_code == 200
    config = response.context["config"]
    assert set(config["municipalities"]) == {"0151", "0101"}
    assert config["basemap"]["layers"] == [
        {"id": "background", "type": "background", "paint": {"background-color": "#eef1f4"}}]
    assert "/static/vendor/maplibre-gl/maplibre-gl.js" in response.content.decode()


def test_coarse_simplify_keeps_multipolygons(api, world):
    # Found by schemathesis: a large tolerance turned a MultiPolygon into a Polygon (a 500).
    response = api.get("/api/v1/areas/", {"kind": "municipality", "simplify": "0.1"})
    assert response.status_code == 200
    assert {f["geometry"]["type"] for f in response.json()["features"]} == {"MultiPolygon"}


def test_openapi_schema_and_offline_docs_page(client, db):
    schema = client.get("/api/v1/schema/?format=json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert {"/api/v1/reports/", "/api/v1/reports/{report_id}/", "/api/v1/categories/"} <= set(
        paths)
    assert "post" in paths["/api/v1/reports/"]
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/" in html
    assert "cdn" not in html.lower() and "unpkg" not in html.lower()
    from django.contrib.staticfiles import finders

    assert finders.find("drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")


def test_public_report_page_shows_public_text_only(client, world):
    from reports import services
    from tests.reports.factories import file_report

    report = file_report(description="Hul ved 010190-1234",
                         reporter=services.Reporter(email="hemmelig@example.dk"))
    services.report_transition(report_id=report.pk, to_status="in_progress",
                               public_text="Vi kommer i morgen", internal_text="intern note")
    page = client.get(f"/reports/{report.pk}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Vi kommer i morgen" in html and "Hul ved ******-****" in html
    for secret in ("hemmelig@example.dk", "intern note", "010190-1234", "rule #"):
        assert secret not in html
    assert client.get("/reports/999999").status_code == 404
