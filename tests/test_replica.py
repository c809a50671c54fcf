"""Public reads on a real streaming replica (DATABASE_REPLICA_URL): a second PostgreSQL
cluster made with pg_basebackup from the test's own primary. The list, a report's page and
the tiles read the replica; writes go to the primary; a replica that stops costs nothing."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from contextlib import ExitStack

import mapbox_vector_tile

from maps.tiles import lonlat_to_tile
from tests.reports.factories import BALLERUP_TOWN
from tests.servers import PostgresCluster, daphne_server, prepare_os2geo_database, wait_for

LON, LAT = BALLERUP_TOWN
BBOX = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"


def get(port: int, path: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=20) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def listed(port: int) -> set[int]:
    status, body = get(port, f"/api/v1/reports/?bbox={BBOX}&limit=500")
    assert status == 200, body[:300]
    return {feature["id"] for feature in json.loads(body)["features"]}


def in_tile(port: int) -> set[int]:
    x, y = lonlat_to_tile(LON, LAT, 16)
    status, body = get(port, f"/api/v1/tiles/reports/16/{x}/{y}.mvt")
    assert status == 200
    layers = mapbox_vector_tile.decode(body) if body else {}
    return {f["id"] for f in layers.get("reports", {}).get("features", [])}


def file(port: int, category: str) -> int:
    data = json.dumps({"location": {"type": "Point", "coordinates": [LON, LAT]},
                       "category": category, "description": "Hul i vejen"}).encode()
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/reports/", data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=20) as response:
        assert response.status == 201
        return json.loads(response.read())["id"]


def test_public_reads_come_from_the_replica_and_fall_back_to_the_primary(tmp_path):
    with ExitStack() as stack:
        primary = PostgresCluster()
        stack.callback(primary.remove)
        primary.init()
        primary.start()
        url = prepare_os2geo_database(primary, reports_per_municipality=1)
        replica = PostgresCluster()
        stack.callback(replica.remove)
        replica.init_replica_of(primary)
        replica.start()
        assert replica.sql("SELECT pg_is_in_recovery()") == [(True,)]
        port = stack.enter_context(daphne_server(
            log_path=tmp_path / "daphne.log", DATABASE_URL=url,
            DATABASE_REPLICA_URL=replica.url("os2geo"), REPLICA_RETRY_SECONDS="1"))
        status, body = get(port, f"/api/v1/categories/?lon={LON}&lat={LAT}")
        assert status == 200, body[:300]
        category = json.loads(body)["categories"][0]["code"]

        first = file(port, category)  # written to the primary …
        wait_for(lambda: first in listed(port))  # … and read back once the replica has it

        status, body = get(port, "/api/v1/health")
        assert status == 200 and json.loads(body)["checks"]["replica"]["ok"] is True

        replica.sql("SELECT pg_wal_replay_pause()")
        second = file(port, category)
        assert primary.sql(f"SELECT count(*) FROM reports_report WHERE id = {second}",
                           "os2geo") == [(1,)]
        # While the replica holds still, every public read is the replica's.
        assert first in listed(port) and second not in listed(port)
        assert get(port, f"/api/v1/reports/{second}/")[0] == 404
        assert first in in_tile(port) and second not in in_tile(port)
        status, body = get(port, f"/open311/v2/requests/{second}.json")
        assert status == 404, body[:300]

        replica.sql("SELECT pg_wal_replay_resume()")
        wait_for(lambda: second in listed(port))

        replica.stop()  # a replica that goes away: the primary answers instead
        for _ in range(3):
            assert {first, second} <= listed(port)
        assert get(port, f"/api/v1/reports/{second}/")[0] == 200
        assert {first, second} <= in_tile(port)
        status, body = get(port, "/api/v1/health")  # degraded, not down: reads go on
        health = json.loads(body)
        assert status == 200 and health["status"] == "degraded"
        assert health["checks"]["replica"]["ok"] is False
