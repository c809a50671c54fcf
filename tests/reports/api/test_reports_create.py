"""POST /api/v1/reports/: the happy path and every kind of bad input."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reports.models import Report
from tests.reports.factories import BALLERUP_TOWN, MAALOEV, ODENSE

URL = "/api/v1/reports/"


def body(lon_lat=BALLERUP_TOWN, **overrides):
    data = {"location": {"type": "Point", "coordinates": list(lon_lat)}, "category": "pothole",
            "description": "Dybt hul ved cykelstien"}
    data.update(overrides)
    return data


def post(api, data, **kwargs):
    raw = data if isinstance(data, (str, bytes)) else json.dumps(data)
    kwargs.setdefault("content_type", "application/json")
    return api.generic("POST", URL, raw, **kwargs)


def test_create_returns_201_feature_with_routed_department(api, world):
    response = post(api, body(MAALOEV, reporter={"name": "Mette", "email": "m@example.dk",
                                                  "phone": "+45 20 11 22 33"}))
    assert response.status_code == 201, response.content
    assert response["Content-Type"] == "application/geo+json"
    feature = response.json()
    report = Report.objects.get()
    assert feature["type"] == "Feature" and feature["id"] == report.pk
    assert feature["geometry"] == {"type": "Point", "coordinates": list(MAALOEV)}
    props = feature["properties"]
    assert props["status"] == "submitted"
    assert props["department"] == {"id": world["maaloev"].pk, "name": "Vej og Park, Måløv"}
    assert props["municipality"] == {"code": "0151", "name": world["ballerup"].name}
    assert props["category"] == {"code": "pothole", "name": "Hul i vejen"}
    assert props["kle"] == "05.01.08"
    assert response["Location"].endswith(f"/api/v1/reports/{report.pk}/")
    # Contact data is stored for staff, never shown.
    assert report.reporter_email == "m@example.dk"
    assert "m@example.dk" not in response.content.decode()
    assert "Mette" not in response.content.decode()
    assert "reporter" not in props


def test_detail_has_public_timeline_without_internal_text(api, world):
    created = post(api, body()).json()
    detail = api.get(f"{URL}{created['id']}/")
    assert detail.status_code == 200
    feature = detail.json()
    assert feature["id"] == created["id"]
    timeline = feature["timeline"]
    assert [e["kind"] for e in timeline] == ["created", "routed"]
    assert timeline[1]["text"] == "Sendt til Vej og Park."  # the reporter's language (Danish)
    assert "rule #" not in detail.content.decode()  # routing internals are staff-only


def test_unknown_report_is_404_in_the_error_shape(api, world):
    response = api.get(f"{URL}999999/")
    assert response.status_code == 404
    assert response.json()["message"].startswith("No report")


def assert_400(response, *fields):
    assert response.status_code == 400, response.content
    data = response.json()
    assert isinstance(data["message"], str) and data["message"]
    for field in fields:
        assert field in data["errors"], data
    assert Report.objects.count() == 0
    return data


def test_point_outside_every_served_municipality(api, world):
    data = assert_400(post(api, body(ODENSE)), "location")
    assert "nearest served municipality is" in data["message"]
    assert "Ballerup Kommune (0151)" in data["message"]


@pytest.mark.parametrize("category", ["unicorns", "closed", ""])
def test_unknown_or_inactive_category(api, world, category):
    assert_400(post(api, body(category=category)), "category")


@pytest.mark.parametrize("description", [None, "", "   ", "x" * 4001, 42, ["a"]])
def test_missing_or_bad_description(api, world, description):
    data = body()
    if description is None:
        del data["description"]
    else:
        data["description"] = description
    assert_400(post(api, data), "description")


@pytest.mark.parametrize("location", [
    {"type": "Point", "coordinates": [200, 55]},
    {"type": "Point", "coordinates": [12.36, 91]},
    {"type": "Point", "coordinates": ["12.36", "55.73"]},
    {"type": "Point", "coordinates": [True, 55.73]},
    {"type": "Point", "coordinates": [12.36]},
    {"type": "Point"},
    {"type": "LineString", "coordinates": [[12.36, 55.73], [12.37, 55.74]]},
    {"coordinates": [12.36, 55.73]},
    [12.36, 55.73],
    "POINT(12.36 55.73)",
    None,
])
def test_bad_locations(api, world, location):
    assert_400(post(api, body(location=location)), "location")


def test_nan_and_infinity_are_not_coordinates(api, world):
    raw = json.dumps(body()).replace("[12.3633, 55.73]", "[NaN, Infinity]")
    assert "NaN" in raw
    response = post(api, raw)
    assert response.status_code == 400
    assert Report.objects.count() == 0


def test_malformed_json(api, world):
    data = assert_400(post(api, '{"location": {"type": "Point",'))
    assert "JSON" in data["message"]


def test_json_that_is_not_an_object(api, world):
    assert_400(post(api, "[1, 2, 3]"))
    assert_400(post(api, '"text"'))


def test_wrong_content_type_is_415_with_the_error_shape(api, world):
    response = api.generic("POST", URL, "location=1", content_type="text/plain")
    assert response.status_code == 415
    assert "text/plain" in response.json()["message"]
    assert Report.objects.count() == 0


def test_body_over_the_limit_is_413(api, world, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = post(api, body(description="x" * 2000))
    assert response.status_code == 413
    assert "limit is 1000" in response.json()["message"]
    assert Report.objects.count() == 0


def test_unknown_fields_and_bad_reporter_fields_are_named(api, world):
    data = assert_400(post(api, body(colour="red", reporter={"email": "not-an-email",
                                                            "phone": "call me"})))
    assert {"colour", "reporter.email", "reporter.phone"} <= set(data["errors"])


def test_same_body_twice_makes_two_reports_without_idempotency_key(api, world):
    assert post(api, body()).status_code == 201
    assert post(api, body()).status_code == 201
    assert Report.objects.count() == 2


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["location", "category", "description", "type",
                                       "coordinates", "reporter", "address"]), children,
                      max_size=5),
    max_leaves=15,
))
def test_arbitrary_json_never_causes_a_server_error(api, world, payload):
    response = post(api, payload)
    assert response.status_code in (201, 400), response.content
    if response.status_code == 400:
        assert set(response.json()) == {"message", "errors"}


def test_routing_line_is_stored_in_the_reporters_language(api, world):
    created = post(api, body(), HTTP_ACCEPT_LANGUAGE="sv").json()
    timeline = api.get(f"{URL}{created['id']}/").json()["timeline"]
    assert timeline[1]["text"] == "Skickat till Vej og Park."
