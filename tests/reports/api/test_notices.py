"""Notices and stoppers per category and area: in the REST categories list (in the
reader's language), in Open311 (the service definition's informational attributes and the
POST's service_notice), and a stopper refuses a report through every API."""

from __future__ import annotations

import pytest

from maps.models import Area
from reports.api.keys import api_key_issue
from reports.models import ApiClient, CategoryNotice
from tests.reports.factories import BALLERUP_TOWN, MAALOEV, refusals_through_both_apis

pytestmark = pytest.mark.django_db


@pytest.fixture
def notices(world):
    ballerup = world["ballerup"]
    pothole = ballerup.categories.get(code="pothole")
    emergency = CategoryNotice.objects.create(
        municipality=ballerup, kind="notice", text_da="Ring 112 ved akut fare.",
        text_en="Call 112 if anyone is in danger.", phone="112")
    state_road = CategoryNotice.objects.create(
        municipality=ballerup, category=pothole, kind="stopper",
        area=Area.objects.get(kind=Area.Kind.DISTRICT, code="2760"),
        text_da="Vejen her er en statsvej. Kontakt Vejdirektoratet.",
        link="https://www.vejdirektoratet.dk/", phone="72 44 33 33")
    return {"emergency": emergency, "state_road": state_road}


def categories_at(client, lon_lat, language="da") -> dict[str, list[dict]]:
    data = client.get(f"/api/v1/categories/?lon={lon_lat[0]}&lat={lon_lat[1]}",
                      HTTP_ACCEPT_LANGUAGE=language).json()
    return {c["code"]: c["notices"] for c in data["categories"]}


def test_notices_follow_the_place_the_category_and_the_language(client, notices):
    town = categories_at(client, BALLERUP_TOWN)
    assert [n["kind"] for n in town["pothole"]] == ["notice"]
    assert town["litter"] == town["pothole"]
    assert town["pothole"][0] == {"kind": "notice", "text": "Ring 112 ved akut fare.",
                                  "link": None, "phone": "112"}
    maaloev = categories_at(client, MAALOEV)
    assert [n["kind"] for n in maaloev["pothole"]] == ["notice", "stopper"]
    assert maaloev["pothole"][1]["link"] == "https://www.vejdirektoratet.dk/"
    assert [n["kind"] for n in maaloev["litter"]] == ["notice"]
    assert categories_at(client, BALLERUP_TOWN, "en")["pothole"][0]["text"] == \
        "Call 112 if anyone is in danger."
    assert categories_at(client, BALLERUP_TOWN, "sv")["pothole"][0]["text"] == \
        "Ring 112 ved akut fare."                          # no Swedish text: the Danish one
    notices["emergency"].active = False
    notices["emergency"].save()
    assert categories_at(client, BALLERUP_TOWN)["pothole"] == []


def test_a_stopper_refuses_the_report_through_the_rest_api_and_open311(client, notices):
    lon, lat = MAALOEV
    rest, open311 = refusals_through_both_apis(client, MAALOEV, "pothole")
    assert "Vejdirektoratet" in rest and "Vejdirektoratet" in open311
    key = api_key_issue(client=ApiClient.objects.create(name="Another app"))
    litter = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": "litter", "lat": lat, "long": lon,
        "description": "Affald"})
    assert litter.status_code == 201
    assert litter.json()[0]["service_notice"].startswith("Ring 112 ved akut fare.")


def test_open311_definitions_carry_the_notices_as_informational_attributes(client, notices):
    definition = client.get("/open311/v2/services/pothole.json?jurisdiction_id=0151").json()
    first = definition["attributes"][0]
    assert first["variable"] is False and first["description"] == \
        "Ring 112 ved akut fare. 112"
    assert all(a["variable"] for a in definition["attributes"][1:])
    # An area's stopper is not a definition's: it depends on where the report is.
    assert "Vejdirektoratet" not in str(definition)


def test_a_notice_for_another_municipalitys_category_is_refused(world):
    from django.core.exceptions import ValidationError

    notice = CategoryNotice(municipality=world["ballerup"], text_da="x",
                            category=world["copenhagen"].categories.get(code="pothole"))
    with pytest.raises(ValidationError):
        notice.clean()
