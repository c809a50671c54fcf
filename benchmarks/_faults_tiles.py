"""The map's tiles under a fault (benchmarks/faults.py): read over and over while reports are
filed, as open maps do, so that the tile cache holds them when each change lands; audited
afterwards: every public report must be in its tile, or a cached tile missed a change."""

from __future__ import annotations

import contextlib
import http.client
import threading

from maps.tiles import lonlat_to_tile, tiles_covering

ZOOM = 14  # single reports (well under TILE_MAX_POINTS), versions shared at LIVE_TILE_ZOOM


class TileReader:
    def __init__(self, port: int, bbox: tuple[float, float, float, float]) -> None:
        self.port = port
        self.tiles = tiles_covering(bbox, ZOOM)
        self.reads = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _fetch(self, conn: http.client.HTTPConnection, x: int, y: int) -> bytes:
        conn.request("GET", f"/api/v1/tiles/reports/{ZOOM}/{x}/{y}.mvt")
        response = conn.getresponse()
        body = response.read()
        if response.status != 200:
            raise OSError(f"tile {x}/{y}: {response.status}")
        return body

    def _run(self) -> None:
        conn: http.client.HTTPConnection | None = None
        while not self.stop.is_set():
            for x, y in self.tiles:
                try:
                    if conn is None:
                        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    self._fetch(conn, x, y)
                    self.reads += 1
                except (OSError, http.client.HTTPException):
                    conn = None  # the web process is down or restarting: try again
                    self.stop.wait(0.2)
            self.stop.wait(0.1)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(15)

    def missing(self, reports: list[tuple[int, float, float]]) -> int:
        """How many of these (id, lon, lat) public reports their tile does not show."""
        import mapbox_vector_tile

        wanted: dict[tuple[int, int], set[int]] = {}
        for report_id, lon, lat in reports:
            wanted.setdefault(lonlat_to_tile(lon, lat, ZOOM), set()).add(report_id)
        missing = 0
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        with contextlib.closing(conn):
            for (x, y), ids in wanted.items():
                body = self._fetch(conn, x, y)
                layers = mapbox_vector_tile.decode(body) if body else {}
                shown = {f["id"] for f in layers.get("reports", {}).get("features", [])}
                missing += len(ids - shown)
        return missing
