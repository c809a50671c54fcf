"""report_create against the real boundaries, districts and addresses."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from geoservice.errors import InvalidInput, OutsideServiceArea, UnknownCategory
from reports import services
from reports.models import KleSubject, Report, ReportEvent
from tests.maps.factories import district
from tests.reports.factories import (
    BALLERUP_TOWN,
    COPENHAGEN_CITY,
    MAALOEV,
    ODENSE,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    file_report,
    served_municipality,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def ballerup():
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality, code="pothole")
    CategoryFactory(municipality=municipality, code="toilet", name="Toilet",
                    kle=KleSubject.objects.get(number="06.20.00"))
    roads = DepartmentFactory(municipality=municipality, name="Vej og Park")
    maaloev = DepartmentFactory(municipality=municipality, name="Vej og Park, Måløv")
    RoutingRuleFactory(municipality=municipality, kle_prefix="05", department=roads)
    rule = RoutingRuleFactory(municipality=municipality, kle_prefix="05", department=maaloev,
                              area=district("0151", "2760"))
    return {"municipality": municipality, "roads": roads, "maaloev": maaloev,
            "maaloev_rule": rule}


def test_report_is_routed_by_kle_and_stored_with_its_first_timeline_rows(ballerup):
    report = file_report(lon_lat=BALLERUP_TOWN, description="  Dybt hul  ",
                         reporter=services.Reporter(name="Mette", email="m@example.dk"))
    assert report.department == ballerup["roads"]
    assert report.status == "submitted" and report.version == 1
    assert report.description == "Dybt hul"
    assert report.municipality.code == "0151"
    assert not report.needs_triage
    assert report.routing_explanation.startswith("KLE 05 → Vej og Park, rule #")
    kinds = list(report.events.values_list("kind", flat=True))
    assert kinds == [ReportEvent.Kind.CREATED, ReportEvent.Kind.ROUTED]
    assert report.events.get(kind="routed").internal_text == report.routing_explanation


def test_district_rule_wins_inside_its_district(ballerup):
    report = file_report(lon_lat=MAALOEV)
    assert report.department == ballerup["maaloev"]
    assert f"KLE 05 + Måløv → Vej og Park, Måløv, rule #{ballerup['maaloev_rule'].pk}" == \
        report.routing_explanation


def test_category_without_rule_goes_to_default_department_flagged(ballerup):
    report = file_report(category="toilet")
    assert report.department == ballerup["municipality"].default_department
    assert report.needs_triage


def test_point_outside_every_served_municipality_names_the_nearest(ballerup):
    with pytest.raises(OutsideServiceArea) as caught:
        file_report(lon_lat=ODENSE)
    message = caught.value.message
    assert "Ballerup Kommune (0151)" in message and "km away" in message
    assert caught.value.nearest_code == "0151"
    assert "location" in caught.value.errors
    assert Report.objects.count() == 0


def test_nearest_served_municipality_is_the_closest_one(ballerup):
    served_municipality("0101")
    # Amager Strand is near København, far from Ballerup; the sea is outside both.
    with pytest.raises(OutsideServiceArea) as caught:
        file_report(lon_lat=(12.75, 55.65))
    assert caught.value.nearest_code == "0101"


def test_unknown_or_inactive_category_is_refused(ballerup):
    with pytest.raises(UnknownCategory) as caught:
        file_report(category="unicorns")
    assert "category" in caught.value.errors
    ballerup["municipality"].categories.filter(code="pothole").update(active=False)
    with pytest.raises(UnknownCategory):
        file_report(category="pothole")
    assert Report.objects.count() == 0


def test_category_of_another_municipality_is_refused_here(ballerup):
    copenhagen = served_municipality("0101")
    CategoryFactory(municipality=copenhagen, code="cph-only")
    with pytest.raises(UnknownCategory):
        file_report(lon_lat=BALLERUP_TOWN, category="cph-only")
    assert Report.objects.count() == 0


@pytest.mark.parametrize("description,error", [("", "Describe"), ("   ", "Describe"),
                                               ("x" * 4001, "4000")])
def test_description_is_required_and_limited(ballerup, description, error):
    with pytest.raises(InvalidInput) as caught:
        file_report(description=description)
    assert error in caught.value.errors["description"][0]
    assert Report.objects.count() == 0


def test_description_of_exactly_4000_characters_is_accepted(ballerup):
    assert len(file_report(description="y" * 4000).description) == 4000


@pytest.mark.parametrize("lon,lat", [(200, 55), (12, 95), (-181, 0), (float("nan"), 55)])
def test_out_of_range_location_is_invalid_input(ballerup, lon, lat):
    with pytest.raises(InvalidInput):
        services.report_create(location=Point(lon, lat, srid=4326), category_code="pothole",
                               description="Hul")


def test_report_without_address_gets_nearest_address_within_100_m():
    municipality = served_municipality("0101")
    CategoryFactory(municipality=municipality)
    # 12.5363832, 55.6485271 is Borgmester Christiansens Gade 45, 2450 København SV.
    near = file_report(lon_lat=(12.5368, 55.6487))
    assert near.address == "Borgmester Christiansens Gade 45, 2450 København SV"
    far = file_report(lon_lat=COPENHAGEN_CITY)
    assert far.address == ""
    given = file_report(lon_lat=(12.5368, 55.6487), address="Ved lygtepælen")
    assert given.address == "Ved lygtepælen"


def test_identity_numbers_in_an_address_are_stored_masked_and_never_shown(ballerup, client):
    """The address is public everywhere (API, Open311, Atom titles); db7da57 showed it as
    typed."""
    report = file_report(address="Hovedgaden 1, cpr 010190-1234")
    report.refresh_from_db()
    assert report.address == "Hovedgaden 1, cpr ******-****"
    for path in (f"/api/v1/reports/{report.pk}/", f"/open311/v2/requests/{report.pk}.json",
                 f"/feeds/near/?lon={report.location.x}&lat={report.location.y}&radius=100"):
        assert "010190" not in client.get(path).content.decode(), path
