"""Open311 GeoReport v2: conformance per endpoint, per format and per error."""

from __future__ import annotations

import datetime as dt
import io
import json
import xml.etree.ElementTree as ET

import pytest
from django.utils import timezone
from PIL import Image

from reports import services
from reports.api.keys import api_key_issue
from reports.models import ApiClient, CategoryQuestion, Report
from tests.reports.factories import BALLERUP_TOWN, COPENHAGEN_CITY, MAALOEV, ODENSE, file_report

BASE = "/open311/v2/"


@pytest.fixture
def api_key(world) -> str:
    return api_key_issue(client=ApiClient.objects.create(name="Test app"))


@pytest.fixture
def questions(world):
    category = world["ballerup"].categories.get(code="pothole")
    CategoryQuestion.objects.create(
        category=category, code="size", question="Hvor stort er hullet?",
        datatype="singlevaluelist", required=True, order=1,
        values=[{"key": "small", "name": "Lille"}, {"key": "large", "name": "Stort"}])
    CategoryQuestion.objects.create(category=category, code="depth_cm", question="Dybde i cm",
                                    datatype="number", order=2)
    return category


def parse_xml(response) -> ET.Element:
    assert response["Content-Type"].startswith("text/xml")
    body = response.content
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(body)  # raises on anything that is not well-formed
    for element in root.iter():
        assert element.attrib == {}, element.tag
        if element.text is not None and len(element) == 0:
            assert element.text == element.text.strip(), (element.tag, element.text)
        assert element.tail is None or element.tail == ""
    return root


def post(client, data, fmt="json", **extra):
    return client.post(f"{BASE}requests.{fmt}", data, **extra)


def test_discovery_in_both_formats(client, world):
    data = client.get(f"{BASE}discovery.json").json()
    assert data["endpoints"][0]["specification"] == "http://wiki.open311.org/GeoReport_v2"
    root = parse_xml(client.get(f"{BASE}discovery.xml"))
    assert root.tag == "discovery"
    assert root.find("endpoints/endpoint/formats/format").text == "application/json"


def test_services_need_a_jurisdiction_when_several_are_served(client, world):
    response = client.get(f"{BASE}services.json")
    assert response.status_code == 400
    assert response.json() == [{"code": 400,
                                "description": "jurisdiction_id is required; one of: 0101, 0151."}]
    root = parse_xml(client.get(f"{BASE}services.xml"))
    assert root.tag == "errors" and root.find("error/code").text == "400"
    assert client.get(f"{BASE}services.json?jurisdiction_id=9999").status_code == 404


@pytest.mark.django_db
def test_an_installation_serving_no_municipality_yet_answers_404_not_500(client):
    for path in ("services.json", "services/pothole.json", "services/pothole.xml"):
        response = client.get(f"{BASE}{path}")
        assert response.status_code == 404, path
        if path.endswith(".json"):
            assert response.json() == [{"code": 404,
                                        "description": "No municipality is served here yet."}]
        else:
            assert parse_xml(response).find("error/code").text == "404"


def test_services_list_with_and_without_suffix_and_slash(client, world, questions):
    for url in (f"{BASE}services.json?jurisdiction_id=0151",
                f"{BASE}services?jurisdiction_id=0151",
                f"{BASE}services/?jurisdiction_id=0151"):
        services_ = client.get(url).json()
        assert {s["service_code"] for s in services_} == {"pothole", "litter", "playground"}
    pothole = next(s for s in services_ if s["service_code"] == "pothole")
    assert pothole["metadata"] is True and pothole["type"] == "realtime"
    root = parse_xml(client.get(f"{BASE}services.xml?jurisdiction_id=0151"))
    assert root.tag == "services"
    assert {e.text for e in root.findall("service/service_code")} == {
        "pothole", "litter", "playground"}
    assert root.find("service/metadata").text in ("true", "false")


def test_service_definition_lists_the_questions(client, world, questions):
    data = client.get(f"{BASE}services/pothole.json?jurisdiction_id=0151").json()
    assert data["service_code"] == "pothole"
    size = data["attributes"][0]
    assert (size["code"], size["datatype"], size["required"], size["order"]) == (
        "size", "singlevaluelist", True, 1)
    assert size["values"] == [{"key": "small", "name": "Lille"}, {"key": "large", "name": "Stort"}]
    root = parse_xml(client.get(f"{BASE}services/pothole.xml?jurisdiction_id=0151"))
    assert root.find("attributes/attribute/values/value/key").text == "small"
    assert client.get(f"{BASE}services/nope.json?jurisdiction_id=0151").status_code == 404


def base_request(api_key, lon_lat=BALLERUP_TOWN, **extra):
    data = {"api_key": api_key, "service_code": "pothole", "long": lon_lat[0],
            "lat": lon_lat[1], "description": "Hul i vejen", "email": "borger@example.dk",
            "first_name": "Mette", "last_name": "Hansen", "phone": "+45 20112233",
            "device_id": "device-1", "account_id": "acc-9"}
    data.update(extra)
    return data


def test_post_without_or_with_a_wrong_key_is_403(client, world):
    for key in (None, "os2geo_nope_nope", "garbage"):
        data = base_request(key)
        if key is None:
            del data["api_key"]
        response = post(client, data)
        assert response.status_code == 403
        assert response.json()[0]["code"] == 403
    assert Report.objects.count() == 0


def test_post_creates_a_routed_report_and_returns_id_and_notice(client, world, api_key,
                                                                 questions):
    response = post(client, base_request(api_key, MAALOEV, **{"attribute[size]": "large",
                                                               "attribute[depth_cm]": "12"}))
    assert response.status_code == 201, response.content
    (answer,) = response.json()
    report = Report.objects.get(pk=int(answer["service_request_id"]))
    assert answer["service_notice"] == "Sent to Vej og Park, Måløv, Ballerup Kommune."
    assert answer["account_id"] == "acc-9" and answer["token"] == str(report.token)
    assert report.source == "open311" and report.answers == {"size": "large", "depth_cm": 12}
    assert (report.reporter_name, report.reporter_email) == ("Mette Hansen",
                                                             "borger@example.dk")
    assert report.device_id == "device-1"


def test_post_as_xml(client, world, api_key, questions):
    response = post(client, base_request(api_key, **{"attribute[size]": "small"}), fmt="xml")
    assert response.status_code == 201
    root = parse_xml(response)
    assert root.tag == "service_requests"
    assert root.find("request/service_request_id").text.isdigit()


@pytest.mark.parametrize("extra,expected", [
    ({"attribute[size]": "huge"}, "attribute[size]: "),
    ({}, "Required: Hvor stort er hullet?"),
    ({"attribute[size]": "small", "attribute[depth_cm]": "deep"}, "must be a number"),
    ({"attribute[size]": "small", "attribute[colour]": "red"}, "no such question"),
    ({"attribute[size]": "small", "description": "x" * 4001}, "4000"),
    ({"attribute[size]": "small", "service_code": ""}, "service_code is required"),
    ({"attribute[size]": "small", "service_code": "unicorns"}, "unicorns"),
    ({"attribute[size]": "small", "lat": "91"}, "lat must lie in"),
    ({"attribute[size]": "small", "lat": "abc"}, "lat must be a number"),
    ({"attribute[size]": "small", "email": "not-an-email"}, "email"),
    ({"attribute[size]": "small", "media_url": "ftp://x"}, "media_url"),
    ({"attribute[size]": "small", "jurisdiction_id": "0101"}, "not in jurisdiction 0101"),
])
def test_post_validation_errors_are_400_in_the_spec_shape(client, world, api_key, questions,
                                                         extra, expected):
    response = post(client, base_request(api_key, **extra))
    assert response.status_code == 400, response.content
    errors = response.json()
    assert all(e["code"] == 400 for e in errors)
    assert any(expected in e["description"] for e in errors), errors
    assert Report.objects.count() == 0


def test_post_outside_every_municipality_names_the_nearest(client, world, api_key):
    response = post(client, base_request(api_key, ODENSE))
    assert response.status_code == 400
    assert "Ballerup Kommune (0151)" in response.json()[0]["description"]


def test_post_with_an_address_string_only(client, world, api_key):
    data = base_request(api_key, address_string="Borgmester Christiansens Gade 45, 2450 "
                                                "København SV")
    del data["lat"], data["long"]
    response = post(client, data)
    assert response.status_code == 201, response.content
    report = Report.objects.get()
    assert report.municipality.code == "0101"
    assert report.address.startswith("Borgmester Christiansens Gade 45")
    data["address_string"] = "Kildegårdsvej"
    assert "several addresses" in post(client, data).json()[0]["description"]
    data["address_string"] = "Ingen Sådan Vej 1"
    assert "matches no known address" in post(client, data).json()[0]["description"]


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "orange").save(out, format="JPEG")
    return out.getvalue()


def test_post_multipart_with_media_upload(client, world, api_key):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = base_request(api_key)
    data["media"] = SimpleUploadedFile("x.bin", _jpeg(), content_type="application/octet-stream")
    response = post(client, data)
    assert response.status_code == 201, response.content
    request_id = response.json()[0]["service_request_id"]
    got = client.get(f"{BASE}requests/{request_id}.json").json()[0]
    assert got["media_url"].startswith("http://127.0.0.1:8000/media/photos/")


def test_get_requests_fields_status_mapping_and_privacy(client, world):
    report = file_report(description="Mit CPR er 010190-1234",
                         reporter=services.Reporter(name="Skjult Navn", email="skjult@example.dk",
                                                    phone="+45 99887766"))
    services.report_transition(report_id=report.pk, to_status="resolved",
                               public_text="Lappet. Borger 010190-1234 takket.")
    (item,) = client.get(f"{BASE}requests.json").json()
    assert list(item) == [
        "service_request_id", "status", "status_notes", "service_name", "service_code",
        "description", "agency_responsible", "service_notice", "requested_datetime",
        "updated_datetime", "expected_datetime", "address", "address_id", "zipcode", "lat",
        "long", "media_url"]
    assert item["status"] == "closed"
    assert item["status_notes"] == "Lappet. Borger ******-**** takket."
    assert item["description"] == "Mit CPR er ******-****"
    assert (item["lat"], item["long"]) == (BALLERUP_TOWN[1], BALLERUP_TOWN[0])
    assert "T" in item["requested_datetime"] and item["requested_datetime"][-6] in "+-"
    text = client.get(f"{BASE}requests.json").content.decode()
    for secret in ("Skjult", "skjult@example.dk", "99887766", "010190"):
        assert secret not in text
    root = parse_xml(client.get(f"{BASE}requests.xml"))
    assert root.find("request/status").text == "closed"
    report.refresh_from_db()
    expected = root.find("request/expected_datetime").text
    assert dt.datetime.fromisoformat(expected) == report.expected_at.replace(microsecond=0)


def test_get_requests_filters(client, world):
    old = file_report(description="gammel")
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=120),
                                            updated_at=timezone.now() - dt.timedelta(days=120))
    pothole = file_report(description="hul")
    litter = file_report(category="litter", lon_lat=COPENHAGEN_CITY)
    services.report_transition(report_id=litter.pk, to_status="rejected", public_text="Privat")

    def ids(query=""):
        response = client.get(f"{BASE}requests.json{query}")
        assert response.status_code == 200, response.content
        return {int(item["service_request_id"]) for item in response.json()}

    assert ids() == {pothole.pk, litter.pk}                       # last 90 days by default
    assert ids(f"?service_request_id={old.pk},{litter.pk}") == {old.pk, litter.pk}
    assert ids("?status=open") == {pothole.pk}
    assert ids("?status=closed") == {litter.pk}
    assert ids("?service_code=litter") == {litter.pk}
    start = (timezone.now() - dt.timedelta(days=200)).isoformat()
    assert ids(f"?start_date={start.replace('+', '%2B')}") == {old.pk, pothole.pk, litter.pk}
    assert ids("?jurisdiction_id=0101") == {litter.pk}
    assert ids("?bbox=12.5,55.6,12.7,55.75") == {litter.pk}
    assert ids(f"?lat={BALLERUP_TOWN[1]}&long={BALLERUP_TOWN[0]}&radius=300") == {pothole.pk}
    assert ids("?page_size=1&page=1") | ids("?page_size=1&page=2") == {pothole.pk, litter.pk}
    later = (timezone.now() - dt.timedelta(hours=1)).isoformat().replace("+", "%2B")
    Report.objects.filter(pk=pothole.pk).update(updated_at=timezone.now() - dt.timedelta(days=1))
    assert ids(f"?updated_after={later}") == {litter.pk}


@pytest.mark.parametrize("query", ["?status=fixed", "?start_date=yesterday", "?bbox=1,2,3",
                                   "?bbox=12,,13,56", "?lat=55", "?page_size=5000", "?page=0",
                                   "?service_request_id=abc", "?radius=5&lat=55&long=12&radius=-1"])
def test_get_requests_bad_parameters_are_400(client, world, query):
    response = client.get(f"{BASE}requests.json{query}")
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400


def test_extensions_add_answers_notes_and_detailed_status(client, world):
    report = file_report()
    services.report_transition(report_id=report.pk, to_status="in_progress",
                               public_text="På vej", internal_text="intern")
    plain = client.get(f"{BASE}requests/{report.pk}.json").json()[0]
    assert "extended_attributes" not in plain
    item = client.get(f"{BASE}requests/{report.pk}.json?extensions=true").json()[0]
    extended = item["extended_attributes"]
    assert extended["detailed_status"] == "in_progress"
    assert [n["kind"] for n in extended["notes"]] == ["created", "routed", "status"]
    assert extended["notes"][-1]["text"] == "På vej"
    assert "intern" not in json.dumps(item)
    root = parse_xml(client.get(f"{BASE}requests/{report.pk}.xml?extensions=true"))
    assert root.find("request/extended_attributes/notes/note/kind").text == "created"


def test_request_by_id_token_and_404s(client, world):
    report = file_report()
    assert client.get(f"{BASE}requests/{report.pk}.json").json()[0]["service_request_id"] == \
        str(report.pk)
    assert client.get(f"{BASE}requests/{report.pk}/").status_code == 200
    for url in (f"{BASE}requests/999999.json", f"{BASE}requests/abc.json",
                f"{BASE}tokens/00000000-0000-0000-0000-000000000000.json", f"{BASE}tokens/x.xml"):
        response = client.get(url)
        assert response.status_code == 404
    token = client.get(f"{BASE}tokens/{report.token}.json").json()
    assert token == [{"service_request_id": str(report.pk), "token": str(report.token)}]
    root = parse_xml(client.get(f"{BASE}tokens/nope.xml"))
    assert root.find("error/code").text == "404"


def test_service_request_updates(client, world):
    report = file_report()
    services.report_transition(report_id=report.pk, to_status="acknowledged",
                               public_text="Modtaget")
    services.report_transition(report_id=report.pk, to_status="resolved", public_text="Løst")
    updates = client.get(f"{BASE}servicerequestupdates.json").json()
    assert [(u["service_request_id"], u["status"], u["description"]) for u in updates] == [
        (str(report.pk), "open", "Modtaget"), (str(report.pk), "closed", "Løst")]
    assert set(updates[0]) == {"update_id", "service_request_id", "status",
                               "updated_datetime", "description", "media_url",
                               "external_status_code"}
    assert [u["external_status_code"] for u in updates] == ["acknowledged", "resolved"]
    root = parse_xml(client.get(f"{BASE}servicerequestupdates.xml"))
    assert len(root.findall("request_update")) == 2


def test_idempotent_open311_post(client, world, api_key):
    data = base_request(api_key)
    first = post(client, data, HTTP_IDEMPOTENCY_KEY="k-1")
    again = post(client, data, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 201
    assert first.content == again.content and again["Idempotent-Replayed"] == "true"
    assert Report.objects.count() == 1
    changed = post(client, {**data, "description": "Noget andet"}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert changed.status_code == 422
    assert changed.json()[0]["code"] == 422


def test_wrong_method_is_405_in_the_error_shape(client, world):
    response = client.delete(f"{BASE}requests.json")
    assert response.status_code == 405
    assert response.json()[0]["code"] == 405


def test_a_page_with_extensions_costs_a_constant_number_of_queries(
        client, world, django_assert_max_num_queries):
    for index in range(20):
        report = file_report(description=f"Nr. {index}")
        services.report_transition(report_id=report.pk, to_status="acknowledged",
                                   public_text="Set")
    with django_assert_max_num_queries(4):  # requests, photos, public events (+1 spare)
        items = client.get(f"{BASE}requests.json?extensions=true").json()
    assert len(items) == 20
    assert all(len(i["extended_attributes"]["notes"]) == 3 for i in items)


# --- findings of the security review (each failed on db7da57) ------------------------------

def test_extensions_mask_identity_numbers_in_free_text_answers(client, world):
    category = world["ballerup"].categories.get(code="pothole")
    CategoryQuestion.objects.create(category=category, code="note", question="Bemærkning",
                                    datatype="text", order=1)
    report = file_report(answers={"note": "Mit cpr er 010190-1234"})
    item = client.get(f"{BASE}requests/{report.pk}.json?extensions=true").json()[0]
    assert "010190" not in json.dumps(item)
    assert item["extended_attributes"]["answers"] == [
        {"code": "note", "value": "Mit cpr er ******-****"}]
    assert report.answers["note"] == "Mit cpr er 010190-1234"  # staff keep the original


@pytest.mark.parametrize("where", ["query", "form"])
def test_nul_characters_in_parameters_are_400_not_500(client, world, api_key, where):
    if where == "query":
        response = client.get(f"{BASE}requests.json?service_code=pot%00hole")
    else:
        response = post(client, base_request(api_key, description="Hul\x00i vejen"))
    assert response.status_code == 400
    assert response.json()[0]["code"] == 400
    assert Report.objects.count() == 0


def test_an_overlong_email_is_refused_by_its_length_before_any_pattern(client, world, api_key):
    """db7da57 matched a quadratic pattern against the whole value (minutes for 50 kB)."""
    response = post(client, base_request(api_key, email="a@" + "b" * 50_000))
    assert response.status_code == 400
    assert "254 characters" in response.json()[0]["description"]
    assert post(client, base_request(api_key, email="a@b")).status_code == 400
