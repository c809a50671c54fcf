"""GET /api/v1/reports/?bbox=… against the floor: the same filter as one SQL statement that
builds the whole FeatureCollection in PostGIS (ST_AsGeoJSON, json_build_object, aggregated
into one text), run via psycopg.

    .venv/bin/python benchmarks/bbox.py [--reports 1000000] [--repeats 30]
    .venv/bin/python benchmarks/bbox.py --smoke     # a fresh small database, a few requests

The endpoint is timed twice: over HTTP against a daphne process (what a client sees) and
in-process through Django's full request handler (no socket). Medians and ratios printed.
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import (  # noqa: E402
    EXTENT,
    ROOT,
    SMOKE_REPORTS,
    psycopg_connect,
    run_benchmark,
    seed_reports,
)


# The floor: the same filter, ordering and limit, and the same per-feature SQL the endpoint
# uses (reports.selectors), aggregated into one FeatureCollection text by PostGIS and run
# directly through psycopg: what the endpoint costs beyond it is Django, DRF and HTTP.
def floor_sql() -> str:
    from reports.selectors import _PUBLIC_FEATURE_SQL, _PUBLIC_FEATURES_FROM

    return f"""
    SELECT '{{"type":"FeatureCollection","features":['
           || coalesce(string_agg(f.feature, ',' ORDER BY f.id DESC), '') || ']}}'
    FROM (
      SELECT r.id, {_PUBLIC_FEATURE_SQL} AS feature
      {_PUBLIC_FEATURES_FROM}
      WHERE r.location && ST_MakeEnvelope(%s, %s, %s, %s, 4326)
        AND ST_Intersects(r.location, ST_MakeEnvelope(%s, %s, %s, %s, 4326))
      ORDER BY r.id DESC
      LIMIT %s
    ) f
    """



def bbox_side_for(count: int, total: int) -> float:
    """Side (degrees, square in degrees) of a bbox expected to hold `count` reports."""
    x0, y0, x1, y1 = EXTENT
    return ((x1 - x0) * (y1 - y0) * count / total) ** 0.5


def random_bboxes(side: float, n: int, rng: random.Random) -> list[tuple[float, ...]]:
    x0, y0, x1, y1 = EXTENT
    boxes = []
    for _ in range(n):
        x = rng.uniform(x0, x1 - side)
        y = rng.uniform(y0, y1 - side)
        boxes.append((round(x, 6), round(y, 6), round(x + side, 6), round(y + side, 6)))
    return boxes


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_daphne(url: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="benchmark",
               LOG_LEVEL="WARNING")
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice.serve", "-b", "127.0.0.1", "-p", str(port),
         "geoservice.asgi:application"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/api/v1/health")
            break
        except OSError:
            time.sleep(0.1)
    return process, port


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30, help="bboxes per size")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE_REPORTS:,} reports in a fresh database, 3 bboxes per size")
    args = parser.parse_args()
    if args.smoke:
        args.reports, args.repeats = SMOKE_REPORTS, 3
    run_benchmark(args, run)


def run(args, url: str) -> None:
    total = seed_reports(args.reports)
    print(f"{total:,} reports in the benchmark database")

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    floor = psycopg_connect()
    floor_statement = floor_sql()
    daphne, port = start_daphne(url)
    rng = random.Random(7)
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        print(f"\n{'target':>8} {'features':>9} {'floor ms':>9} {'http ms':>8} {'ratio':>6} "
              f"{'in-proc ms':>10} {'ratio':>6}")
        for target in (100, 1000):
            boxes = random_bboxes(bbox_side_for(target, total), args.repeats, rng)
            limit = 1000
            floor_t, http_t, proc_t, counts = [], [], [], []
            for box in boxes:  # warm the cache for every box first: all three read from RAM
                floor.execute(floor_statement, [*box, *box, limit]).fetchone()
            for box in boxes:
                bbox = ",".join(map(str, box))
                path = f"/api/v1/reports/?bbox={bbox}&limit={limit}"
                start = time.perf_counter()
                floor.execute(floor_statement, [*box, *box, limit]).fetchone()
                floor_t.append(time.perf_counter() - start)

                start = time.perf_counter()
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                http_t.append(time.perf_counter() - start)
                assert response.status == 200, body[:300]

                start = time.perf_counter()
                result = client.get(path)
                proc_t.append(time.perf_counter() - start)
                counts.append(result.content.count(b'"Feature"'))
            if not any(counts):  # a benchmark of empty answers measures nothing
                sys.exit(f"no features in any of the {len(boxes)} bboxes: are the seeded "
                         "reports public?")
            f, h, p = (statistics.median(t) * 1000 for t in (floor_t, http_t, proc_t))
            print(f"{target:>8} {statistics.median(counts):>9.0f} {f:>9.2f} {h:>8.2f} "
                  f"{h / f:>6.2f} {p:>10.2f} {p / f:>6.2f}")
    finally:
        daphne.terminate()
        daphne.wait()
        floor.close()
    print("\nratio = endpoint median / floor median (target at 1,000 features: <= 1.5)")


if __name__ == "__main__":
    main()
