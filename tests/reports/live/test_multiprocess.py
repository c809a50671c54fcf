"""Several OS processes, one Redis: a change committed by one process reaches a websocket
client connected to a daphne process."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)
from tests.servers import (
    ROOT,
    children_of,
    daphne_server,
    free_port,
    redis_process,
    redis_server,
    run_python,
    service_env,
    wait_for,
    wait_for_port,
)

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


def _server_pid_of(client_port: int, server_port: int, pids: list[int]) -> int | None:
    """Which of `pids` holds the server side of the loopback connection from
    `client_port` (read from /proc/net/tcp and the processes' file descriptors)."""
    wanted = (f"0100007F:{server_port:04X}", f"0100007F:{client_port:04X}")
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if (fields[1], fields[2]) == wanted:
            inode = fields[9]
    if inode is None:
        return None
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    if os.readlink(fd) == f"socket:[{inode}]":
                        return pid
    return None


def test_several_web_processes_share_one_port_and_every_socket_hears_every_change(
        tmp_path, committed_reference_data):
    """`geoservice.serve --workers 2`: two daphne processes accept on one port; map sockets
    land on both, and a report filed through either reaches the sockets on both (Redis).
    A web process killed with -9 is started again while the other serves."""
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05",
                       department=DepartmentFactory(municipality=municipality))
    port = free_port()
    with redis_server() as redis_url, open(tmp_path / "serve.log", "wb") as log, \
            contextlib.ExitStack() as stack:
        master = subprocess.Popen(
            [sys.executable, "-m", "geoservice.serve", "--workers", "2", "-b", "127.0.0.1",
             "-p", str(port), "geoservice.asgi:application"],
            cwd=ROOT, env=service_env(REDIS_URL=redis_url), stdout=log, stderr=log)
        try:
            wait_for_port(port, master)
            workers = wait_for(lambda: (c := children_of(master.pid)) and len(c) == 2 and c)
            sockets: dict[int, list] = {pid: [] for pid in workers}
            deadline = time.monotonic() + 60
            while not all(sockets.values()) and time.monotonic() < deadline:
                socket = stack.enter_context(
                    connect(f"ws://127.0.0.1:{port}/ws/map/", open_timeout=10))
                socket.send(json.dumps({"type": "subscribe", "bbox": BBOX}))
                assert json.loads(socket.recv(timeout=10))["type"] == "subscribed"
                pid = _server_pid_of(socket.socket.getsockname()[1], port, workers)
                assert pid in workers
                sockets[pid].append(socket)
            assert all(sockets.values()), "every connection landed on one process"

            filed = {}
            for _ in range(4):  # through the port: each POST lands on one of the two
                body = json.dumps({"category": "pothole", "description": "Hul i vejen",
                                   "location": {"type": "Point", "coordinates":
                                                list(BALLERUP_TOWN)}}).encode()
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/api/v1/reports/", data=body,
                    headers={"Content-Type": "application/json"})
                with urllib.request.urlopen(request, timeout=10) as answer:
                    filed[json.load(answer)["id"]] = True
            for opened in sockets.values():
                for socket in opened:
                    heard = set()
                    while not set(filed) <= heard:
                        frame = receive_until(socket, lambda f: f["type"] == "report.created")
                        heard.add(frame["report_id"])

            os.kill(workers[0], signal.SIGKILL)
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health",
                                        timeout=10) as answer:
                assert answer.status == 200  # the other process serves meanwhile
            again = wait_for(lambda: (c := children_of(master.pid)) and len(c) == 2
                             and workers[0] not in c and c, timeout=30)
            assert workers[1] in again
        finally:
            stack.close()  # the sockets, before their server
            master.terminate()
            master.wait(20)
    assert not children_of(master.pid)


def test_several_web_processes_without_redis_are_refused():
    result = subprocess.run(
        [sys.executable, "-m", "geoservice.serve", "--workers", "2", "-b", "127.0.0.1",
         "-p", str(free_port()), "geoservice.asgi:application"],
        cwd=ROOT, env={k: v for k, v in os.environ.items() if k != "REDIS_URL"},
        capture_output=True, text=True, timeout=30)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr
