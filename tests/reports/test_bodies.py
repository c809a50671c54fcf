"""Responsible bodies other than the municipality: a road line imported in 25832 and
buffered into an area, a stop rule that ends the flow before the form with whom to contact
(REST, Open311, the categories list), a forward rule that files the report for the body and
mails it a handover, or sends it to the body's Open311 destination; overlapping bodies,
where the smaller area wins and staff read why; a pin moved onto the road by staff."""

from __future__ import annotations

import io
import json

import pytest
from django.contrib.gis.geos import Point
from django.core.management import CommandError, call_command
from pyproj import Transformer

from maps.models import Area
from reports.models import (
    Asset,
    AssetType,
    BodyRule,
    Destination,
    ExternalCase,
    Handover,
    KleSubject,
    Notification,
    Report,
    ReportEvent,
    ResponsibleBody,
)
from reports.staff import triage
from reports.staff.selectors import EXPORT_FIELDS, export_rows
from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    file_report,
    member,
    refusals_through_both_apis,
)
from tests.reports.worlds import two_municipalities

pytestmark = pytest.mark.django_db

# A north-south line through Ballerup's centre, drawn for the test (not a real road).
ROAD = [(12.3633, 55.7250), (12.3633, 55.7350)]
ON_ROAD = BALLERUP_TOWN                       # (12.3633, 55.7300): on the line
NEAR_ROAD = (12.3633 + 15 / 62_680, 55.7300)   # 15 m east (a degree of longitude ≈ 62.7 km)
OFF_ROAD = (12.3633 + 40 / 62_680, 55.7300)    # 40 m east
TO_UTM = Transformer.from_crs(4326, 25832, always_xy=True)


def import_lines(tmp_path, lines: dict[str, list[tuple[float, float]]], *, utm: bool,
                 buffer: float | None = 20) -> str:
    features = [{"type": "Feature", "properties": {"code": code, "name": f"Vej {code}"},
                 "geometry": {"type": "LineString", "coordinates": [
                     list(TO_UTM.transform(*xy)) if utm else list(xy) for xy in line]}}
                for code, line in lines.items()]
    collection = {"type": "FeatureCollection", "features": features}
    if utm:
        collection["crs"] = {"type": "name",
                             "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}}
    path = tmp_path / ("utm.geojson" if utm else "wgs84.geojson")
    path.write_text(json.dumps(collection))
    out = io.StringIO()
    args = [str(path), "--kind", "road_owner", "--code-field", "code", "--name-field", "name"]
    call_command("maps_import_areas", *args,
                 *(["--line-buffer", str(buffer)] if buffer is not None else []),
                 stdout=out, stderr=io.StringIO())
    return out.getvalue()


def covered(point: tuple[float, float], code: str) -> bool:
    return Area.objects.filter(kind="road_owner", code=code,
                               geom__contains=Point(*point, srid=4326)).exists()


@pytest.mark.parametrize("utm", [True, False], ids=["epsg25832", "epsg4326"])
def test_road_lines_are_buffered_into_areas_by_the_tolerance(tmp_path, utm):
    output = import_lines(tmp_path, {"M4": ROAD}, utm=utm)
    assert "buffered 1 lines by 20 m into areas" in output
    assert covered(ON_ROAD, "M4") and covered(NEAR_ROAD, "M4")
    assert not covered(OFF_ROAD, "M4")


def test_lines_without_a_tolerance_and_lines_of_no_length_are_refused(tmp_path):
    with pytest.raises(CommandError, match="pass --line-buffer"):
        import_lines(tmp_path, {"M4": ROAD}, utm=True, buffer=None)
    with pytest.raises(CommandError, match="a line of no length"):
        import_lines(tmp_path, {"X": [ROAD[0], ROAD[0]]}, utm=False)
    with pytest.raises(CommandError, match="at most 1000 m"):
        import_lines(tmp_path, {"M4": ROAD}, utm=False, buffer=5000)
    assert not Area.objects.filter(kind="road_owner").exists()


@pytest.fixture
def road(tmp_path, db):
    world = two_municipalities()
    ballerup = world["ballerup"]
    CategoryFactory(municipality=ballerup, code="street-light", name="Gadelys",
                    kle=KleSubject.objects.get(number="05.01.12"))
    import_lines(tmp_path, {"M4": ROAD}, utm=True)
    state = ResponsibleBody.objects.create(
        name="Vejdirektoratet", kind="state_roads", email="post@vd.example.dk",
        phone="72 44 33 33", link="https://www.vejdirektoratet.dk/",
        text_da="Vejen er en statsvej. Meld det til Vejdirektoratet.")
    state.areas.add(Area.objects.get(kind="road_owner", code="M4"))
    stop = BodyRule.objects.create(municipality=ballerup, body=state, kle_prefix="05",
                                   action="stop")
    forward = BodyRule.objects.create(municipality=ballerup, body=state,
                                      kle_prefix="05.01.12", action="forward")
    return {**world, "state": state, "stop": stop, "forward": forward}


def categories_at(client, lon_lat, language="da") -> dict[str, list[dict]]:
    data = client.get(f"/api/v1/categories/?lon={lon_lat[0]}&lat={lon_lat[1]}",
                      HTTP_ACCEPT_LANGUAGE=language).json()
    return {c["code"]: c["notices"] for c in data["categories"]}


def test_the_citizen_learns_before_the_form_whose_road_it_is(client, road):
    on = categories_at(client, NEAR_ROAD)
    assert on["pothole"] == [{"kind": "stopper", "text": road["state"].text_da,
                              "link": "https://www.vejdirektoratet.dk/",
                              "phone": "72 44 33 33"}]
    assert [n["kind"] for n in on["street-light"]] == ["notice"]
    assert "Vejdirektoratet" in on["street-light"][0]["text"]
    assert on["playground"] == []                          # KLE 04: not a road subject
    english = categories_at(client, NEAR_ROAD, "en")
    assert english["pothole"][0]["text"] == road["state"].text_da   # no English text set
    assert english["street-light"][0]["text"].startswith("Vejdirektoratet is responsible here")
    off = categories_at(client, OFF_ROAD)
    assert off["pothole"] == [] and off["street-light"] == []
    page = client.get(f"/report/?place={NEAR_ROAD[0]},{NEAR_ROAD[1]}").content.decode()
    assert "Meld det til Vejdirektoratet" in page


def test_a_stop_rule_refuses_the_report_through_both_apis_and_files_it_off_the_road(
        client, road):
    rest, open311 = refusals_through_both_apis(client, ON_ROAD, "pothole")
    assert "72 44 33 33" in rest
    assert "Vejdirektoratet" in open311
    off = file_report(lon_lat=OFF_ROAD)
    assert off.responsible_body is None and off.department == road["roads"]
    road["stop"].active = False
    road["stop"].save()
    assert file_report(lon_lat=ON_ROAD).responsible_body is None   # the rule is off


def test_a_forward_rule_files_the_report_for_the_body_and_mails_it_a_handover(client, road):
    lon, lat = ON_ROAD
    response = client.post("/api/v1/reports/", {
        "location": {"type": "Point", "coordinates": [lon, lat]}, "category": "street-light",
        "description": "Lampen er slukket", "reporter": {"email": "borger@example.dk"}},
        content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["properties"]["responsible_body"] == {
        "name": "Vejdirektoratet", "kind": "state_roads"}
    report = Report.objects.get(pk=response.json()["id"])
    assert report.responsible_body == road["state"]
    assert report.department == road["roads"]              # still followed by the department
    assert f"body rule #{road['forward'].pk}" in report.routing_explanation
    assert "Vejdirektoratet" in report.routing_explanation
    handover = Handover.objects.get(report=report)
    assert (handover.party, handover.email, handover.share_contact) == (
        "Vejdirektoratet", "post@vd.example.dk", False)
    mail = Notification.objects.get(report=report, recipient="post@vd.example.dk")
    assert "borger@example.dk" not in json.dumps(mail.context)   # no reporter contact
    receipt = Notification.objects.get(report=report, recipient="borger@example.dk")
    assert receipt.context["report"]["handled_by"] == "Vejdirektoratet"
    routed = report.events.get(kind=ReportEvent.Kind.ROUTED)
    assert routed.public_text == "Sendt til Vejdirektoratet."
    detail = client.get(f"/open311/v2/requests/{report.pk}.json").json()[0]
    assert detail["agency_responsible"] == "Vejdirektoratet"
    row = dict(zip(EXPORT_FIELDS, next(export_rows(Report.objects.filter(pk=report.pk))),
                   strict=True))
    assert row["responsible_body__name"] == "Vejdirektoratet"        # in the CSV export
    # Elsewhere the same category stays with the municipality.
    stays = file_report(lon_lat=OFF_ROAD, category="street-light")
    assert stays.responsible_body is None
    assert client.get(f"/api/v1/reports/{stays.pk}/").json()["properties"][
        "responsible_body"] is None


def test_overlapping_bodies_the_smaller_area_wins_and_staff_read_why(road):
    town = Area.objects.get(kind="municipality", code="0151")
    utility = ResponsibleBody.objects.create(name="Forsyningen", kind="utility",
                                             email="drift@forsyning.example.dk")
    utility.areas.add(town)
    BodyRule.objects.create(municipality=road["ballerup"], body=utility,
                            kle_prefix="05.01.12", action="forward")
    on = file_report(lon_lat=ON_ROAD, category="street-light")
    assert on.responsible_body == road["state"]            # the road's strip is smaller
    assert "also here: Forsyningen" in on.routing_explanation
    off = file_report(lon_lat=OFF_ROAD, category="street-light")
    assert off.responsible_body == utility
    assert Handover.objects.get(report=off).email == "drift@forsyning.example.dk"


def test_a_body_with_an_open311_destination_gets_it_there_not_by_mail(road):
    ballerup = road["ballerup"]
    theirs = Destination.objects.create(name="Vejdirektoratets sagssystem",
                                        municipality=ballerup, body=road["state"],
                                        endpoint="http://127.0.0.1:9/open311/v2/")
    ours = Destination.objects.create(name="Vej og Parks system", municipality=ballerup,
                                      endpoint="http://127.0.0.1:9/other/v2/")
    report = file_report(lon_lat=ON_ROAD, category="street-light")
    assert list(ExternalCase.objects.filter(report=report).values_list(
        "destination", flat=True)) == [theirs.pk]
    assert not Handover.objects.filter(report=report).exists()
    stays = file_report(lon_lat=OFF_ROAD, category="street-light")
    assert list(ExternalCase.objects.filter(report=stays).values_list(
        "destination", flat=True)) == [ours.pk]


def test_staff_moving_a_pin_onto_the_road_forward_it_and_off_again_take_it_back(road):
    staff = member("vej", "caseworker", road["roads"])
    report = file_report(lon_lat=OFF_ROAD, category="street-light")
    moved = triage.report_move(actor=staff, report_id=report.pk,
                               location=Point(*NEAR_ROAD, srid=4326))
    assert moved.responsible_body == road["state"]
    assert Handover.objects.filter(report=report, email="post@vd.example.dk").count() == 1
    assert report.events.filter(kind=ReportEvent.Kind.MOVED,
                                public_text="Sendt til Vejdirektoratet.").exists()
    back = triage.report_move(actor=staff, report_id=report.pk,
                              location=Point(*OFF_ROAD, srid=4326))
    assert back.responsible_body is None
    moved_off = report.events.filter(kind=ReportEvent.Kind.MOVED).latest("id").internal_text
    assert "Taken back from Vejdirektoratet. No other body is responsible now." in moved_off
    assert Handover.objects.get(report=report).state == "withdrawn"   # their link stops


def test_a_report_on_an_asset_is_decided_where_the_asset_stands_not_where_the_pin_is(road):
    lights = AssetType.objects.create(municipality=road["ballerup"], code="street-light",
                                      name="Gadelys", select_distance_m=50)
    lights.categories.add(road["ballerup"].categories.get(code="street-light"))
    on_the_road = Asset.objects.create(asset_type=lights, external_id="M4-1", label="M4-1",
                                       location=Point(*ON_ROAD, srid=4326))
    beside = (12.3633 + 30 / 62_680, 55.7300)            # 30 m east: off the 20 m strip
    assert file_report(lon_lat=beside, category="street-light").responsible_body is None
    report = file_report(lon_lat=beside, category="street-light", asset_id=on_the_road.pk)
    assert report.responsible_body == road["state"]
