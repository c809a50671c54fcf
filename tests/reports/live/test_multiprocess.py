"""Several OS processes, one Redis: a change committed by one process reaches a websocket
client connected to a daphne process."""

from __future__ import annotations

import json
import time
import urllib.request

import pytest
from websockets.sync.client import connect

from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)
from tests.servers import daphne_server, redis_process, redis_server, run_python

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


BBOX = [12.34, 55.72, 12.38, 55.74]


def receive_until(socket, wanted, timeout: float = 20) -> dict:
    """The first frame for which `wanted(frame)` holds (others are skipped)."""
    deadline = time.monotonic() + timeout
    while True:
        frame = json.loads(socket.recv(timeout=max(deadline - time.monotonic(), 0.1)))
        if wanted(frame):
            return frame


def test_sockets_open_across_a_redis_restart_are_told_to_catch_up_and_hear_again(
        tmp_path, committed_reference_data):
    """Redis goes away under a web process with open map and report sockets, a report is
    filed meanwhile (its live event is lost), Redis comes back empty. The sockets are told
    to catch up, the catch-up finds the report, and later events arrive again."""
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05",
                       department=DepartmentFactory(municipality=municipality))
    file = FILE_REPORT.format(lon=BALLERUP_TOWN[0], lat=BALLERUP_TOWN[1])
    with redis_process() as redis, daphne_server(log_path=tmp_path / "daphne.log",
                                                 REDIS_URL=redis.url) as port:
        followed = int(run_python(file, REDIS_URL=redis.url))
        with connect(f"ws://127.0.0.1:{port}/ws/map/", open_timeout=10) as socket, \
                connect(f"ws://127.0.0.1:{port}/ws/reports/{followed}/") as follower:
            socket.send(json.dumps({"type": "subscribe", "bbox": BBOX}))
            assert json.loads(socket.recv(timeout=10))["type"] == "subscribed"
            assert json.loads(follower.recv(timeout=10))["type"] == "report.snapshot"

            redis.stop()
            missed = int(run_python(file, REDIS_URL=redis.url))  # its event cannot be sent
            run_python(TRANSITION.format(report_id=followed), REDIS_URL=redis.url)
            time.sleep(1)
            redis.start()

            resync = receive_until(socket, lambda f: f["type"] == "resync")
            snapshot = receive_until(follower, lambda f: f["type"] == "report.snapshot")
            assert snapshot["feature"]["properties"]["status"] == "in_progress"
            # The catch-up a client makes (docs/live.md) finds what the socket missed.
            query = (f"bbox={','.join(map(str, BBOX))}&updated_after="
                     f"{urllib.request.quote(resync['since'])}")
            with urllib.request.urlopen(
                    f"http://127.0.0.1:{port}/api/v1/reports/?{query}", timeout=10) as answer:
                caught_up = {f["id"] for f in json.load(answer)["features"]}
            assert {missed, followed} <= caught_up

            # Group memberships are back: the next change is heard live again.
            after = int(run_python(file, REDIS_URL=redis.url))
            event = receive_until(socket, lambda f: f.get("report_id") == after)
            assert event["type"] == "report.created"
