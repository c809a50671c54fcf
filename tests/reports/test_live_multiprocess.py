"""Several OS processes, one Redis: a change committed by one process reaches a websocket
client connected to a daphne process."""

from __future__ import annotations

import json

import pytest
from websockets.sync.client import connect

from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)
from tests.servers import daphne_server, redis_server, run_python

pytestmark = pytest.mark.django_db(transaction=True)

FILE_REPORT = """
from django.contrib.gis.geos import Point
from reports import services
report = services.report_create(location=Point({lon}, {lat}, srid=4326),
                                category_code="pothole", description="Fra en anden proces")
print(report.pk)
"""
TRANSITION = """
from reports import services
services.report_transition(report_id={report_id}, to_status="in_progress")
"""


def test_change_in_one_process_reaches_a_socket_on_a_daphne_process(tmp_path,
                                                                  committed_reference_data):
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05",
                       department=DepartmentFactory(municipality=municipality))
    with redis_server() as redis_url, daphne_server(log_path=tmp_path / "daphne.log",
                                                    REDIS_URL=redis_url) as port:
        with connect(f"ws://127.0.0.1:{port}/ws/map/", open_timeout=10) as socket:
            socket.send(json.dumps({"type": "subscribe", "bbox": [12.34, 55.72, 12.38, 55.74]}))
            assert json.loads(socket.recv(timeout=10))["type"] == "subscribed"
            report_id = int(run_python(FILE_REPORT.format(lon=BALLERUP_TOWN[0],
                                                          lat=BALLERUP_TOWN[1]),
                                       REDIS_URL=redis_url))
            event = json.loads(socket.recv(timeout=10))
            assert (event["type"], event["report_id"], event["version"]) == (
                "report.created", report_id, 1)
            with connect(f"ws://127.0.0.1:{port}/ws/reports/{report_id}/") as follower:
                assert json.loads(follower.recv(timeout=10))["type"] == "report.snapshot"
                run_python(TRANSITION.format(report_id=report_id), REDIS_URL=redis_url)
                for received in (socket, follower):
                    event = json.loads(received.recv(timeout=10))
                    assert (event["type"], event["version"]) == ("report.updated", 2)
                    assert event["feature"]["properties"]["status"] == "in_progress"
