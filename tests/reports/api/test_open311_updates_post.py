"""mySociety's `POST servicerequestupdates`: a front end such as FixMyStreet sends its
citizens' comments on the reports it sent here. The form is the one FixMyStreet's
perllib/Open311.pm builds (`_populate_service_request_update_params`), and the answer is
read the way it reads it (`request_update[0].update_id` of the XML)."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from reports.api.keys import api_key_issue
from reports.models import ApiClient, InboundUpdate, Report, ReportEvent
from tests.reports.factories import file_report

URL = "/open311/v2/servicerequestupdates"


@pytest.fixture
def front(world):
    client = ApiClient.objects.create(name="FixMyStreet Ballerup")
    return client, api_key_issue(client=client)


@pytest.fixture
def their_report(front):
    client, _ = front
    report = file_report(source=Report.Source.OPEN311)
    Report.objects.filter(pk=report.pk).update(api_client=client)
    return report


def fixmystreet_form(key: str, report_id: int, **overrides) -> dict:
    form = {"jurisdiction_id": "0151", "api_key": key,
            "updated_datetime": "2026-12-01T10:15:00+01:00",
            "service_request_id": str(report_id), "status": "OPEN",
            "description": "Hullet er blevet større, ring 12345678 (CPR 010190-1234).",
            "first_name": "Karen", "last_name": "Jensen", "email": "karen@example.dk",
            "update_id": "88"}
    form.update(overrides)
    return form


def update_id_as_fixmystreet_reads_it(response) -> str:
    root = ET.fromstring(response.content)
    assert root.tag == "service_request_updates"
    return root.findall("request_update")[0].findtext("update_id")


def test_fixmystreet_update_lands_on_the_public_timeline_without_contact_data(
        client, front, their_report):
    _, key = front
    response = client.post(f"{URL}.xml", fixmystreet_form(key, their_report.pk))
    assert response.status_code == 201, response.content
    update_id = update_id_as_fixmystreet_reads_it(response)
    event = ReportEvent.objects.get(pk=int(update_id))
    assert event.report_id == their_report.pk
    assert event.kind == ReportEvent.Kind.CITIZEN_UPDATE
    assert "010190-1234" not in event.public_text      # masked for the public
    inbound = InboundUpdate.objects.get(their_update_id="88")
    assert (inbound.name, inbound.email, inbound.status) == ("Karen Jensen",
                                                             "karen@example.dk", "OPEN")
    detail = client.get(f"/api/v1/reports/{their_report.pk}/").json()
    texts = [entry["text"] for entry in detail["timeline"]]
    assert any(text.startswith("Hullet er blevet større") for text in texts)
    assert "karen" not in json.dumps(detail).lower()
    page = client.get(f"/reports/{their_report.pk}").content.decode()
    assert "Hullet er blevet større" in page and "karen@example.dk" not in page


def test_the_same_update_id_posted_again_gives_the_first_answer_and_adds_nothing(
        client, front, their_report):
    _, key = front
    first = client.post(f"{URL}.json", fixmystreet_form(key, their_report.pk))
    again = client.post(f"{URL}.json", fixmystreet_form(key, their_report.pk))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json() == again.json()
    assert ReportEvent.objects.filter(report=their_report,
                                      kind=ReportEvent.Kind.CITIZEN_UPDATE).count() == 1


def test_a_fixed_status_from_the_front_end_does_not_close_the_case(client, front,
                                                                    their_report):
    _, key = front
    response = client.post(f"{URL}.json", fixmystreet_form(key, their_report.pk,
                                                           status="FIXED", update_id="89"))
    assert response.status_code == 201
    their_report.refresh_from_db()
    assert their_report.status == "submitted"
    event = ReportEvent.objects.get(pk=int(response.json()[0]["update_id"]))
    assert "FIXED" in event.internal_text


def test_citizen_updates_are_not_echoed_in_the_updates_feed(client, front, their_report):
    _, key = front
    client.post(f"{URL}.json", fixmystreet_form(key, their_report.pk))
    feed = client.get(f"{URL}.json", {"jurisdiction_id": "0151"}).json()
    assert all(item["update_id"] != "88" for item in feed)
    assert not [item for item in feed
                if "større" in (item.get("description") or "")]


@pytest.mark.parametrize(("change", "status", "needle"), [
    ({"api_key": "os2geo_nope_nope"}, 403, "api_key"),
    ({"update_id": ""}, 400, "update_id is required"),
    ({"service_request_id": ""}, 400, "service_request_id"),
    ({"service_request_id": "999999"}, 404, "999999"),
    ({"description": "  "}, 400, "description"),
    ({"email": "not an address"}, 400, "email"),
    ({"updated_datetime": "yesterday"}, 400, "updated_datetime"),
    ({"media_url": "ftp://x"}, 400, "media_url"),
])
def test_bad_updates_get_the_spec_error_list(client, front, their_report, change, status,
                                             needle):
    _, key = front
    response = client.post(f"{URL}.xml", fixmystreet_form(key, their_report.pk, **change))
    assert response.status_code == status, response.content
    root = ET.fromstring(response.content)
    assert root.tag == "errors"
    assert needle in root.find("error").findtext("description")
    assert not InboundUpdate.objects.exists()


def test_a_client_cannot_post_on_reports_it_did_not_send(client, world, their_report):
    other_key = api_key_issue(client=ApiClient.objects.create(name="Another app"))
    response = client.post(f"{URL}.json", fixmystreet_form(other_key, their_report.pk))
    assert response.status_code == 404
    mine = file_report()  # filed on the web map, by nobody's key
    response = client.post(f"{URL}.json", fixmystreet_form(other_key, mine.pk))
    assert response.status_code == 404
    assert not InboundUpdate.objects.exists()


def test_fixmystreets_w3cdtf_dates_in_utc_and_its_dash_for_a_missing_last_name(
        client, front, their_report):
    """DateTime::Format::W3CDTF writes UTC as ...Z; FixMyStreet sends last_name "-" when the
    commenter gave one name only."""
    _, key = front
    response = client.post(f"{URL}.xml", fixmystreet_form(
        key, their_report.pk, updated_datetime="2026-12-01T09:15:00Z", last_name="-",
        update_id="90"))
    assert response.status_code == 201, response.content
    inbound = InboundUpdate.objects.get(their_update_id="90")
    assert inbound.name == "Karen"
    assert inbound.updated_at.isoformat().startswith("2026-12-01T09:15:00")
