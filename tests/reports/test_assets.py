"""Assets: imported from generated files in EPSG:25832 and 4326 (a dry run first, then by
external id: added, moved, changed, removed, back again, without touching reports filed),
bad geometries refused by name; served as vector tiles with their open public reports;
named by reports through REST (with the nearest offered) and Open311 (as the attribute
`asset_id`), and shown to staff."""

from __future__ import annotations

import io
import json
import math

import mapbox_vector_tile
import pytest
from django.core.management import CommandError, call_command
from pyproj import Transformer

from geoservice.errors import InvalidInput
from maps.tiles import lonlat_to_tile
from reports import services
from reports.api.keys import api_key_issue
from reports.models import ApiClient, Asset, AssetType, KleSubject, Report
from reports.staff.selectors import QueueFilters, asset_history, staff_queue, staff_statistics
from tests.reports.factories import BALLERUP_TOWN, CategoryFactory, file_report, member
from tests.reports.worlds import two_municipalities

pytestmark = pytest.mark.django_db

TO_UTM = Transformer.from_crs(4326, 25832, always_xy=True)
LON, LAT = BALLERUP_TOWN
M_PER_DEG_LON = 111_320 * math.cos(math.radians(LAT))


def east(metres: float, lon: float = LON) -> float:
    return lon + metres / M_PER_DEG_LON


def lights_file(tmp_path, lights: dict[str, tuple[float, float]], *, utm: bool = True,
                extra: list[dict] | None = None, name: str = "lights.geojson") -> str:
    features = [{"type": "Feature",
                 "properties": {"nr": nr, "navn": f"Lygtepæl {nr}", "watt": 36},
                 "geometry": {"type": "Point", "coordinates": list(
                     TO_UTM.transform(*xy) if utm else xy)}} for nr, xy in lights.items()]
    collection: dict = {"type": "FeatureCollection", "features": features + (extra or [])}
    if utm:
        collection["crs"] = {"type": "name",
                             "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    path = tmp_path / name
    path.write_text(json.dumps(collection))
    return str(path)


def run(path: str, *extra: str) -> str:
    out = io.StringIO()
    call_command("reports_import_assets", path, "--municipality", "0151", "--type",
                 "street-light", "--id-field", "nr", "--label-field", "navn", *extra,
                 stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.fixture
def lights(db):
    world = two_municipalities()
    ballerup = world["ballerup"]
    category = CategoryFactory(municipality=ballerup, code="street-light", name="Gadelys",
                               kle=KleSubject.objects.get(number="05.01.12"))
    kind = AssetType.objects.create(municipality=ballerup, code="street-light",
                                    name="Gadelys", select_distance_m=30,
                                    fields=[{"key": "watt", "label": "Effekt (W)"}])
    kind.categories.add(category)
    return {**world, "category": category, "type": kind}


LIGHTS = {"L1": (LON, LAT), "L2": (east(40), LAT), "L3": (east(80), LAT)}


@pytest.mark.parametrize("utm", [True, False], ids=["epsg25832", "epsg4326"])
def test_a_dry_run_writes_nothing_and_apply_imports_in_either_crs(tmp_path, lights, utm):
    path = lights_file(tmp_path, LIGHTS, utm=utm)
    assert "Dry run, nothing written (--apply writes). Would have: Assets: 3 added" in run(path)
    assert not Asset.objects.exists()
    assert "Assets: 3 added, 0 moved" in run(path, "--apply")
    one = Asset.objects.get(external_id="L2")
    assert (one.label, one.properties) == ("Lygtepæl L2", {"watt": 36})
    assert one.location.x == pytest.approx(east(40), abs=1e-6)   # about 6 cm
    assert one.location.y == pytest.approx(LAT, abs=1e-6)
    assert "3 unchanged" in run(path, "--apply")


def test_a_new_file_adds_moves_changes_and_removes_by_id_and_leaves_reports_alone(
        tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    l3 = Asset.objects.get(external_id="L3")
    report = file_report(lon_lat=(east(80), LAT), category="street-light", asset_id=l3.pk)
    changed = {"L1": LIGHTS["L1"], "L2": (east(45), LAT), "L4": (east(120), LAT)}
    path = lights_file(tmp_path, changed, name="new.geojson")
    output = run(path, "--apply")
    assert "Assets: 1 added, 1 moved, 0 changed, 1 unchanged, 1 removed, 0 back again" in output
    assert "marked removed (reports filed against them keep them)" in output
    l3.refresh_from_db()
    assert l3.removed_at is not None
    report.refresh_from_db()
    assert (report.asset_id, report.asset_label) == (l3.pk, "Lygtepæl L3")
    assert report.location.x == pytest.approx(east(80), abs=1e-6)
    # A removed asset is gone from the tiles and cannot be chosen for a new report.
    with pytest.raises(InvalidInput) as refused:
        file_report(lon_lat=(east(80), LAT), category="street-light", asset_id=l3.pk)
    assert "may have been removed" in refused.value.errors["asset"][0]
    run(lights_file(tmp_path, {**changed, "L3": LIGHTS["L3"]}, name="back.geojson"), "--apply")
    l3.refresh_from_db()
    assert l3.removed_at is None


@pytest.mark.parametrize("feature,message", [
    ({"properties": {"nr": "X", "navn": "x", "watt": 1},
      "geometry": {"type": "LineString", "coordinates": [[LON, LAT], [east(10), LAT]]}},
     "a LineString, not a point"),
    ({"properties": {"nr": "X", "navn": "x", "watt": 1}, "geometry": None}, "no geometry"),
    ({"properties": {"nr": "L1", "navn": "x", "watt": 1},
      "geometry": {"type": "Point", "coordinates": [LON, LAT]}}, "is also feature #0's"),
    ({"properties": {"nr": "", "navn": "x", "watt": 1},
      "geometry": {"type": "Point", "coordinates": [LON, LAT]}}, "empty nr"),
    ({"properties": {"nr": "Y", "navn": "x", "watt": 1},
      "geometry": {"type": "Point", "coordinates": [10.388, 55.396]}},
     "lies outside Ballerup Kommune"),
])
def test_unusable_features_refuse_the_file_by_name(tmp_path, lights, feature, message):
    path = lights_file(tmp_path, {"L1": LIGHTS["L1"]}, utm=False,
                       extra=[{"type": "Feature", **feature}])
    with pytest.raises(CommandError, match=message):
        run(path, "--apply")
    assert not Asset.objects.exists()


def test_a_field_the_type_keeps_must_be_in_the_file(tmp_path, lights):
    lights["type"].fields = [{"key": "armatur", "label": "Armatur"}]
    lights["type"].save()
    with pytest.raises(CommandError, match="no kept property field 'armatur'; fields are"):
        run(lights_file(tmp_path, LIGHTS), "--apply")


def tile(client, type_ids, z=16, lon=LON, lat=LAT) -> dict:
    x, y = lonlat_to_tile(lon, lat, z)
    response = client.get(f"/api/v1/tiles/assets/{z}/{x}/{y}.mvt?type="
                          + ",".join(map(str, type_ids)))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.mapbox-vector-tile"
    return mapbox_vector_tile.decode(response.content) if response.content else {}


def test_asset_tiles_carry_the_open_public_reports_and_nothing_removed(client, tmp_path,
                                                                       lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    kind = lights["type"]
    l1, l2 = Asset.objects.get(external_id="L1"), Asset.objects.get(external_id="L2")
    file_report(category="street-light", asset_id=l1.pk)
    done = file_report(lon_lat=(east(40), LAT), category="street-light", asset_id=l2.pk)
    services.report_transition(report_id=done.pk, to_status="resolved")
    features = {f["id"]: f["properties"] for f in tile(client, [kind.pk])["assets"]["features"]}
    assert features[l1.pk] == {"label": "Lygtepæl L1", "asset_type": kind.pk, "open_reports": 1}
    assert features[l2.pk]["open_reports"] == 0                  # resolved: not open
    # A private report is not counted: its existence is not public.
    lights["category"].visibility = "private"
    lights["category"].save()
    file_report(lon_lat=(east(40), LAT), category="street-light", asset_id=l2.pk)
    lights["category"].visibility = "public"
    lights["category"].save()
    features = {f["id"]: f["properties"] for f in tile(client, [kind.pk])["assets"]["features"]}
    assert features[l2.pk]["open_reports"] == 0
    Asset.objects.filter(pk=l1.pk).update(removed_at=l1.updated_at)
    assert l1.pk not in {f["id"] for f in tile(client, [kind.pk])["assets"]["features"]}
    assert tile(client, [kind.pk], z=14) == {}                    # assets from zoom 15
    kind.active = False
    kind.save()
    assert tile(client, [kind.pk]) == {}
    assert client.get("/api/v1/tiles/assets/16/1/1.mvt?type=x").status_code == 400


def test_the_nearest_assets_are_offered_with_their_open_reports(client, tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    kind = lights["type"]
    l1 = Asset.objects.get(external_id="L1")
    open_report = file_report(category="street-light", asset_id=l1.pk)
    categories = client.get(f"/api/v1/categories/?lon={LON}&lat={LAT}").json()["categories"]
    offered = next(c for c in categories if c["code"] == "street-light")["asset_types"]
    assert offered == [{"id": kind.pk, "code": "street-light", "name": "Gadelys",
                        "select_distance_m": 30}]
    near = client.get(f"/api/v1/assets/nearest/?lon={east(25)}&lat={LAT}&type={kind.pk}"
                      ).json()["assets"]
    assert [a["external_id"] for a in near] == ["L2", "L1"]    # 15 m, 25 m; L3 55 m: too far
    assert near[0]["distance_m"] == pytest.approx(15, abs=0.5)
    assert near[1]["open_reports"] == [open_report.pk]
    far = client.get(f"/api/v1/assets/nearest/?lon={east(200)}&lat={LAT}&type={kind.pk}")
    assert far.json() == {"assets": []}
    assert client.get("/api/v1/assets/nearest/?lon=x&lat=1&type=1").status_code == 400


def test_a_rest_report_names_its_asset_and_is_placed_on_it(client, tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    l2 = Asset.objects.get(external_id="L2")
    body = {"location": {"type": "Point", "coordinates": [east(30), LAT]},
            "category": "street-light", "description": "Slukket", "asset": l2.pk}
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["properties"]["asset"] == {"id": l2.pk, "external_id": "L2",
                                              "label": "Lygtepæl L2", "type": "street-light"}
    assert feature["geometry"]["coordinates"] == pytest.approx([east(40), LAT], abs=1e-6)
    listed = client.get(f"/api/v1/reports/?asset={l2.pk}").json()["features"]
    assert [f["id"] for f in listed] == [feature["id"]]
    too_far = client.post("/api/v1/reports/", {**body, "location": {
        "type": "Point", "coordinates": [east(100), LAT]}}, content_type="application/json")
    assert too_far.status_code == 400
    assert "60 m from the place given; at most 30 m" in too_far.json()["errors"]["asset"][0]
    wrong = client.post("/api/v1/reports/", {**body, "category": "pothole"},
                        content_type="application/json")
    assert wrong.status_code == 400 and "asset" in wrong.json()["errors"]
    plain = client.post("/api/v1/reports/", {**body, "asset": None},
                        content_type="application/json")
    assert plain.json()["properties"]["asset"] is None


def test_open311_takes_and_returns_the_asset_as_an_attribute(client, tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    definition = client.get("/open311/v2/services/street-light.json?jurisdiction_id=0151"
                            ).json()
    attribute = next(a for a in definition["attributes"] if a["code"] == "asset_id")
    assert attribute["variable"] is True and "Gadelys" in attribute["description"]
    services_list = client.get("/open311/v2/services.json?jurisdiction_id=0151").json()
    assert next(s for s in services_list if s["service_code"] == "street-light")["metadata"]
    key = api_key_issue(client=ApiClient.objects.create(name="App"))
    created = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "street-light", "lat": LAT, "long": east(10),
        "description": "Lampen blinker", "attribute[asset_id]": "L1"})
    assert created.status_code == 201, created.content
    request_id = created.json()[0]["service_request_id"]
    report = Report.objects.get(pk=request_id)
    assert report.asset.external_id == "L1" and report.answers == {}
    shown = client.get(f"/open311/v2/requests/{request_id}.json?extensions=true").json()[0]
    assert shown["extended_attributes"]["asset"] == {"id": "L1", "label": "Lygtepæl L1",
                                                     "type": "street-light"}
    unknown = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "street-light", "lat": LAT, "long": LON,
        "description": "Lampen blinker", "attribute[asset_id]": "NOPE"})
    assert unknown.status_code == 400
    assert "NOPE" in unknown.json()[0]["description"]


def test_staff_see_the_asset_its_year_and_filter_and_count_by_type(client, tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    l1 = Asset.objects.get(external_id="L1")
    first = file_report(category="street-light", asset_id=l1.pk)
    second = file_report(category="street-light", asset_id=l1.pk)
    other = file_report(category="street-light")
    assert [r.pk for r in asset_history(second)] == [first.pk]
    staff = member("vej", "caseworker", lights["roads"])
    queue = staff_queue(staff, QueueFilters(asset_type_id=lights["type"].pk))
    assert set(queue.values_list("pk", flat=True)) == {first.pk, second.pk}
    assert other.pk in staff_queue(staff, QueueFilters()).values_list("pk", flat=True)
    assert set(staff_queue(staff, QueueFilters(q="L1")).values_list("pk", flat=True)) == {
        first.pk, second.pk}
    figures = staff_statistics(staff, first.created_at.replace(year=2000),
                               first.created_at.replace(year=2100))
    assert figures.by_asset_type == [{"name": "Gadelys", "reports": 2, "assets": 1}]
    client.force_login(staff)
    page = client.get(f"/staff/reports/{second.pk}/").content.decode()
    assert "Gadelys L1" in page and "Effekt (W): 36" in page
    assert f"#{first.pk}</a>" in page
    public = client.get(f"/reports/{second.pk}").content.decode()
    assert "Lygtepæl L1" in public


def test_the_page_without_the_map_offers_the_nearest_assets(client, tmp_path, lights):
    run(lights_file(tmp_path, LIGHTS), "--apply")
    l2 = Asset.objects.get(external_id="L2")
    page = client.get(f"/report/?place={east(38)},{LAT}").content.decode()
    assert 'id="asset-' + str(l2.pk) + '"' in page and "Lygtepæl L2" in page
    sent = client.post(f"/report/?place={east(38)},{LAT}", {
        "place": f"{east(38)},{LAT}", "category": "street-light", "description": "Slukket",
        "asset": str(l2.pk), "form_token": "t-1", "anonymous": "on"})
    assert sent.status_code == 201, sent.content.decode()[:500]
    assert Report.objects.get(asset=l2).location.x == pytest.approx(east(40), abs=1e-6)
