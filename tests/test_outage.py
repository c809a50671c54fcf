"""While PostgreSQL is unreachable every route answers 503 with Retry-After in its own
format, never a 500: a real web process whose database does not answer."""

from __future__ import annotations

import http.client
import json
import xml.etree.ElementTree as ET

import pytest

from tests.servers import daphne_server, free_port

REPORT = json.dumps({"location": {"type": "Point", "coordinates": [12.3633, 55.73]},
                     "category": "pothole", "description": "Hul"})


@pytest.fixture(scope="module")
def web_without_database(tmp_path_factory):
    """A web process whose DATABASE_URL names a port nothing listens on."""
    dead = f"postgres://postgres@127.0.0.1:{free_port()}/os2geo"
    log = tmp_path_factory.mktemp("outage") / "daphne.log"
    with daphne_server(log_path=log, DATABASE_URL=dead, DATABASE_POOL_TIMEOUT="1") as port:
        yield port


def request(port: int, method: str, path: str, body: str | None = None,
            headers: dict | None = None) -> tuple[int, dict, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()


@pytest.mark.parametrize("method,path,body,headers", [
    ("GET", "/api/v1/reports/?bbox=12.3,55.7,12.4,55.8", None, {}),
    ("POST", "/api/v1/reports/", REPORT,
     {"Content-Type": "application/json", "Idempotency-Key": "k-1"}),
    ("GET", "/api/v1/tiles/reports/14/8754/5127.mvt", None, {}),
    ("GET", "/api/v1/categories/?lon=12.36&lat=55.73", None, {}),
])
def test_the_rest_api_answers_503_json_with_retry_after(web_without_database, method, path,
                                                       body, headers):
    status, response_headers, content = request(web_without_database, method, path, body,
                                                headers)
    assert status == 503, content[:500]
    assert int(response_headers["retry-after"]) > 0
    assert response_headers["content-type"].startswith("application/json")
    assert "database" in json.loads(content)["message"]


def test_open311_answers_503_in_its_own_error_format(web_without_database):
    status, headers, content = request(web_without_database, "GET",
                                       "/open311/v2/requests.xml?jurisdiction_id=0151")
    assert status == 503 and int(headers["retry-after"]) > 0
    error = ET.fromstring(content).find("error")
    assert error.findtext("code") == "503" and "database" in error.findtext("description")
    status, headers, content = request(web_without_database, "POST",
                                       "/open311/v2/requests.json",
                                       "api_key=os2geo_0123456789_secret&service_code=y",
                                       {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 503 and int(headers["retry-after"]) > 0
    assert json.loads(content)[0]["code"] == 503


@pytest.mark.parametrize("path", ["/", "/staff/", "/reports/1"])
def test_pages_answer_503_with_a_short_page(web_without_database, path):
    # A session cookie: the staff page must look up the session (a middleware's query).
    status, headers, content = request(web_without_database, "GET", path, headers={
        "Accept-Language": "da", "Cookie": "sessionid=abcdefghijklmnopqrstuvwxyz123456"})
    assert status == 503 and int(headers["retry-after"]) > 0
    assert headers["content-type"].startswith("text/html")
    assert b"<h1>" in content and b"Traceback" not in content
    assert "utilgængelig" in content.decode()  # in the visitor's language


def test_health_names_the_database_as_down(web_without_database):
    status, headers, content = request(web_without_database, "GET", "/api/v1/health")
    assert status == 503 and int(headers["retry-after"]) > 0
    data = json.loads(content)
    assert data["status"] == "unavailable"
    assert data["checks"]["database"]["ok"] is False
