"""GET /api/v1/reports/: filters, cursor pagination, query counts, public fields only."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from reports import services
from reports.models import Report
from tests.reports.factories import BALLERUP_TOWN, COPENHAGEN_CITY, MAALOEV, NOERREBRO, file_report

URL = "/api/v1/reports/"


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/geo+json"
    data = response.json()
    assert data["type"] == "FeatureCollection"
    return [f["id"] for f in data["features"]]


@pytest.fixture
def reports(world):
    made = {
        "ballerup": file_report(lon_lat=BALLERUP_TOWN,
                                reporter=services.Reporter(name="Secret Name",
                                                           email="secret@example.dk",
                                                           phone="+45 99 88 77 66")),
        "maaloev": file_report(lon_lat=MAALOEV, category="litter"),
        "playground": file_report(lon_lat=BALLERUP_TOWN, category="playground"),
        "cph": file_report(lon_lat=COPENHAGEN_CITY),
        "noerrebro": file_report(lon_lat=NOERREBRO, category="litter"),
    }
    services.report_transition(report_id=made["cph"].pk, to_status="resolved",
                               public_text="Lappet")
    return made


def test_all_reports_newest_first_with_public_properties(api, reports):
    response = api.get(URL)
    assert ids(response) == sorted((r.pk for r in reports.values()), reverse=True)
    feature = response.json()["features"][-1]
    assert feature["geometry"]["coordinates"] == list(BALLERUP_TOWN)  # lon, lat
    assert set(feature["properties"]) == {
        "status", "category", "kle", "department", "responsible_body", "asset", "municipality",
        "description", "address", "duplicate_of", "photos", "media_url", "created_at",
        "updated_at", "expected_datetime", "version"}
    text = response.content.decode()
    for secret in ("Secret Name", "secret@example.dk", "99 88 77 66", "rule #"):
        assert secret not in text


def test_bbox_filter(api, reports):
    response = api.get(URL, {"bbox": "12.50,55.60,12.70,55.75"})
    assert set(ids(response)) == {reports["cph"].pk, reports["noerrebro"].pk}


def test_near_and_radius_in_metres(api, reports):
    # Nørrebro lies about 2.4 km from the city point.
    near = f"{COPENHAGEN_CITY[0]},{COPENHAGEN_CITY[1]}"
    assert set(ids(api.get(URL, {"near": near, "radius": 2000}))) == {reports["cph"].pk}
    assert set(ids(api.get(URL, {"near": near, "radius": 3000}))) == {
        reports["cph"].pk, reports["noerrebro"].pk}
    assert set(ids(api.get(URL, {"near": near}))) == {reports["cph"].pk}  # default 500 m


def test_status_category_kle_municipality_department_filters(api, reports, world):
    assert ids(api.get(URL, {"status": "resolved"})) == [reports["cph"].pk]
    assert len(ids(api.get(URL, {"status": "submitted,resolved"}))) == 5
    assert set(ids(api.get(URL, {"category": "litter"}))) == {
        reports["maaloev"].pk, reports["noerrebro"].pk}
    assert set(ids(api.get(URL, {"kle": "04"}))) == {reports["playground"].pk}
    assert set(ids(api.get(URL, {"kle": "05.07"}))) == {
        reports["maaloev"].pk, reports["noerrebro"].pk}
    assert set(ids(api.get(URL, {"municipality": "0101"}))) == {
        reports["cph"].pk, reports["noerrebro"].pk}
    assert set(ids(api.get(URL, {"department": str(world["maaloev"].pk)}))) == {
        reports["maaloev"].pk}
    assert ids(api.get(URL, {"municipality": "0151", "category": "litter"})) == [
        reports["maaloev"].pk]


def test_updated_after(api, reports):
    cutoff = timezone.now() - dt.timedelta(seconds=1)
    Report.objects.exclude(pk=reports["cph"].pk).update(
        updated_at=timezone.now() - dt.timedelta(days=1))
    assert ids(api.get(URL, {"updated_after": cutoff.isoformat()})) == [reports["cph"].pk]
    # "+" unencoded in a query string arrives as a space; still understood.
    raw = cutoff.astimezone(dt.timezone(dt.timedelta(hours=1))).isoformat()
    assert ids(api.get(f"{URL}?updated_after={raw}")) == [reports["cph"].pk]


def test_cursor_pagination_walks_every_report_once(api, reports):
    seen, url, pages = [], URL + "?limit=2", 0
    while url:
        response = api.get(url)
        seen += ids(response)
        url = response.json()["next"]
        pages += 1
        assert pages < 10
    assert pages == 3
    assert seen == sorted((r.pk for r in reports.values()), reverse=True)


def test_page_size_is_capped(api, reports, settings):
    settings.API_MAX_PAGE_SIZE = 3
    response = api.get(URL, {"limit": 1000})
    assert len(ids(response)) == 3
    assert "limit=3" in response.json()["next"]


@pytest.mark.parametrize("params,field", [
    ({"bbox": "1,2,3"}, "bbox"), ({"bbox": "a,b,c,d"}, "bbox"), ({"bbox": "13,56,12,55"}, "bbox"),
    ({"bbox": "12,55,200,56"}, "bbox"), ({"near": "12.5"}, "near"), ({"near": "x,y"}, "near"),
    ({"near": "12.5,55.6", "radius": "-5"}, "radius"), ({"radius": "100"}, "radius"),
    ({"near": "12.5,55.6", "radius": "1000000"}, "radius"), ({"status": "open"}, "status"),
    ({"kle": "5.1"}, "kle"), ({"department": "roads"}, "department"),
    ({"updated_after": "yesterday"}, "updated_after"),
    ({"updated_after": "2026-13-45T00:00:00Z"}, "updated_after"),
    ({"limit": "0"}, "limit"), ({"limit": "many"}, "limit"), ({"cursor": "garbage"}, "cursor"),
    ({"bbox": "nan,55,12,56"}, "bbox"),
])
def test_bad_filters_are_400_with_the_field_named(api, reports, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400, response.content
    assert field in response.json()["errors"]


def test_a_page_of_100_costs_a_constant_number_of_queries(api, world,
                                                          django_assert_max_num_queries):
    for index in range(100):
        file_report(lon_lat=(BALLERUP_TOWN[0] + index * 1e-4, BALLERUP_TOWN[1]))
    with django_assert_max_num_queries(2):
        response = api.get(URL, {"limit": 100, "municipality": "0151", "kle": "05"})
    assert len(ids(response)) == 100


def test_the_map_view_is_lean_with_the_category_names_once(api, reports, world):
    full = api.get(URL).json()
    response = api.get(URL, {"view": "map"})
    assert ids(response) == [f["id"] for f in full["features"]]
    data = response.json()
    by_id = {f["id"]: f for f in full["features"]}
    for feature in data["features"]:
        assert set(feature["properties"]) == {"status", "category", "municipality", "version"}
        rich = by_id[feature["id"]]
        assert feature["geometry"] == rich["geometry"]
        assert feature["properties"] == {
            "status": rich["properties"]["status"],
            "category": rich["properties"]["category"]["code"],
            "municipality": rich["properties"]["municipality"]["code"],
            "version": rich["properties"]["version"]}
    named = {(c["municipality"], c["code"]): c for c in data["categories"]}
    shown = {(f["properties"]["municipality"], f["properties"]["category"])
             for f in data["features"]}
    assert set(named) == shown  # each category on the page, once
    for rich in full["features"]:
        entry = named[(rich["properties"]["municipality"]["code"],
                       rich["properties"]["category"]["code"])]
        assert entry["name"] == rich["properties"]["category"]["name"]
        assert entry["kle"] == rich["properties"]["kle"]
    assert "description" not in response.content.decode()


def test_the_map_view_pages_and_filters_like_the_full_one(api, reports):
    hidden = reports["maaloev"]
    Report.objects.filter(pk=hidden.pk).update(hidden=True, hidden_at=timezone.now())
    seen, url = [], URL + "?limit=2&view=map"
    while url:
        response = api.get(url)
        seen += ids(response)
        url = response.json()["next"]
        assert url is None or "view=map" in url
    assert hidden.pk not in seen
    assert seen == ids(api.get(URL, {"limit": 100}))
    bbox = api.get(URL, {"bbox": "12.50,55.60,12.70,55.75", "view": "map"})
    assert set(ids(bbox)) == {reports["cph"].pk, reports["noerrebro"].pk}
    empty = api.get(URL, {"bbox": "8.0,55.0,8.01,55.01", "view": "map"}).json()
    assert empty["features"] == [] and empty["categories"] == []


def test_an_unknown_view_is_400_naming_it(api, reports):
    response = api.get(URL, {"view": "tiny"})
    assert response.status_code == 400
    assert response.json()["errors"]["view"] == ["Use full or map."]
