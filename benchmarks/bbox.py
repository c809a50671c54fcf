"""GET /api/v1/reports/?bbox=… against the floor: the same filter as one SQL statement that
builds the whole FeatureCollection in PostGIS (ST_AsGeoJSON, json_build_object, aggregated
into one text), run via psycopg.

    .venv/bin/python benchmarks/bbox.py [--reports 1000000] [--repeats 30]
    .venv/bin/python benchmarks/bbox.py --smoke     # a fresh small database, a few requests

The endpoint is timed twice: over HTTP against a daphne process (what a client sees) and
in-process through Django's full request handler (no socket). Medians and ratios printed.

Then throughput: --clients connections at once asking for ~100-feature bboxes, against the
floor (the same statement on as many psycopg connections) and against the server on each of
--workers process counts (`geoservice.serve --workers N`, with a redis-server of its own
when N > 1). The clients run on the same machine as the server and take CPU from it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import (  # noqa: E402
    pygeoapi_items_path,
    start_pygeoapi,
    start_tipg,
    tipg_items_path,
)
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


def start_daphne(url: str, workers: int = 1,
                 redis_url: str | None = None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="benchmark",
               LOG_LEVEL="WARNING")
    if redis_url:
        env.update(REDIS_URL=redis_url, CACHE_URL=redis_url.rsplit("/", 1)[0] + "/1")
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice.serve", "--workers", str(workers),
         "-b", "127.0.0.1", "-p", str(port), "geoservice.asgi:application"], cwd=ROOT,
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
            probe.request("GET", "/api/v1/health")
            probe.getresponse().read()
            break
        except OSError:
            time.sleep(0.1)
    if workers > 1:
        time.sleep(3)  # the first process answers before the others have loaded Django
    return process, port


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    process.wait(30)


@contextmanager
def serving(url: str, workers: int = 1) -> Iterator[int]:
    """The service on `workers` processes (more than one with a redis-server of its own);
    yields its port."""
    from tests.servers import redis_server

    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server()) if workers > 1 else None
        server, port = start_daphne(url, workers, redis_url)
        stack.callback(stop, server)
        yield port


def throughput(clients: int, seconds: float, ask) -> float:
    """Requests per second that `clients` threads complete, each calling ask(client, i)."""
    done = [0] * clients
    stop_at = time.perf_counter() + seconds

    def loop(client: int) -> None:
        i = 0
        while time.perf_counter() < stop_at:
            ask(client, i)
            i += 1
        done[client] = i

    started = time.perf_counter()
    threads = [threading.Thread(target=loop, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sum(done) / (time.perf_counter() - started)


def throughput_section(args, url: str, total: int) -> None:
    boxes = random_bboxes(bbox_side_for(100, total), 40, random.Random(11))
    floor_statement = floor_sql()
    floors = [psycopg_connect() for _ in range(args.clients)]

    def ask_floor(client: int, i: int) -> None:
        box = boxes[(client * 7 + i) % len(boxes)]
        floors[client].execute(floor_statement, [*box, *box, LIMIT]).fetchone()

    floor_rate = throughput(args.clients, args.seconds, ask_floor)
    for conn in floors:
        conn.close()
    print(f"\nthroughput, {args.clients} connections at once, ~100-feature bboxes, "
          f"{args.seconds:.0f} s each")
    print(f"{'target':>22} {'req/s':>8} {'/ floor':>8} {'/ 1 process':>12}")
    print(f"{'floor (psycopg)':>22} {floor_rate:>8.1f} {1:>8.2f} {'':>12}")
    peer_rates = {}
    with peers() as peer_ports:
        for name, peer_port in peer_ports.items():
            peer_conns = [http.client.HTTPConnection("127.0.0.1", peer_port, timeout=60)
                          for _ in range(args.clients)]

            def ask_peer(client: int, i: int, conns=peer_conns, name=name) -> None:
                box = boxes[(client * 7 + i) % len(boxes)]
                fetch(conns[client], PEER_PATHS[name](box, LIMIT))

            throughput(args.clients, min(args.seconds, 2), ask_peer)
            peer_rates[name] = throughput(args.clients, args.seconds, ask_peer)
            print(f"{name + ', 1 process':>22} {peer_rates[name]:>8.1f} "
                  f"{peer_rates[name] / floor_rate:>8.2f} {'':>12}")
    single = None
    for workers in args.workers:
        with serving(url, workers) as port:
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                     for _ in range(args.clients)]

            def ask_http(client: int, i: int, conns=conns) -> None:
                box = boxes[(client * 7 + i) % len(boxes)]
                conns[client].request("GET", "/api/v1/reports/?bbox="
                                      + ",".join(map(str, box)) + f"&limit={LIMIT}")
                response = conns[client].getresponse()
                response.read()
                assert response.status == 200, response.status

            def ask_map(client: int, i: int, conns=conns) -> None:
                box = boxes[(client * 7 + i) % len(boxes)]
                fetch(conns[client], map_view_path(box, LIMIT))

            throughput(args.clients, min(args.seconds, 2), ask_http)  # warm every process
            processes = f"{workers} process" + ("es" if workers > 1 else "")
            for label, ask in ((f"OS2geo, {processes}", ask_http),
                               (f"view=map, {processes}", ask_map)):
                rate = throughput(args.clients, args.seconds, ask)
                single = single or rate
                versus = "".join(f"  {rate / peer_rate:.2f}x {name}"
                                 for name, peer_rate in peer_rates.items())
                print(f"{label:>22} {rate:>8.1f} {rate / floor_rate:>8.2f} "
                      f"{rate / single:>12.2f}{versus}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=30, help="bboxes per size")
    parser.add_argument("--clients", type=int, default=4,
                        help="connections at once in the throughput part")
    parser.add_argument("--seconds", type=float, default=15, help="per throughput target")
    parser.add_argument("--workers", default="1,2",
                        help="web process counts to measure throughput on, e.g. 1,2,4")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE_REPORTS:,} reports in a fresh database, 3 bboxes per "
                             "size, 1 s of throughput")
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    if args.smoke:
        args.reports, args.repeats, args.seconds = SMOKE_REPORTS, 3, 1
    run_benchmark(args, run)


def feature_ids(body: bytes) -> list:
    return sorted(f.get("id", f.get("properties", {}).get("id"))
                  for f in json.loads(body)["features"])


def fetch(conn: http.client.HTTPConnection, path: str) -> bytes:
    conn.request("GET", path)
    response = conn.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"GET {path}: {response.status} {body[:300]!r}")
    return body


@contextmanager
def peers() -> Iterator[dict[str, int]]:
    """TiPg and pygeoapi on the benchmark database, those installed: name -> port."""
    started: dict[str, int] = {}
    with ExitStack() as stack:
        for name, start in (("TiPg", start_tipg), ("pygeoapi", start_pygeoapi)):
            port = free_port()
            process = start(port)
            if process:
                stack.callback(stop, process)
                started[name] = port
        yield started


def map_view_path(bbox: tuple[float, ...], limit: int) -> str:
    """OS2geo's lean map representation: what a map draws, as the peers are asked for."""
    return f"/api/v1/reports/?bbox={','.join(map(str, bbox))}&limit={limit}&view=map"


PEER_PATHS = {"view=map": map_view_path, "TiPg": tipg_items_path,
              "pygeoapi": pygeoapi_items_path}
LIMIT = 1000


def run(args, url: str) -> None:
    total = seed_reports(args.reports)
    print(f"{total:,} reports in the benchmark database")

    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    floor = psycopg_connect()
    floor_statement = floor_sql()
    daphne, port = start_daphne(url)
    rng = random.Random(7)
    with ExitStack() as stack:
        stack.callback(stop, daphne)
        stack.callback(floor.close)
        peer_ports = stack.enter_context(peers())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        peer_conns = {name: http.client.HTTPConnection("127.0.0.1", p, timeout=60)
                      for name, p in {"view=map": port, **peer_ports}.items()}
        heads = "".join(f" {name + ' ms':>12} {'ratio':>6}" for name in peer_conns)
        print(f"\n{'target':>8} {'features':>9} {'floor ms':>9} {'http ms':>8} {'ratio':>6} "
              f"{'in-proc ms':>10} {'ratio':>6}{heads}")
        for target in (100, 800):
            boxes = random_bboxes(bbox_side_for(target, total), args.repeats, rng)
            floor_t, http_t, proc_t, counts = [], [], [], []
            peer_t: dict[str, list[float]] = {name: [] for name in peer_conns}
            for box in boxes:  # warm every box first, and check that all give the same ids
                expected = feature_ids(floor.execute(
                    floor_statement, [*box, *box, LIMIT]).fetchone()[0].encode())
                path = f"/api/v1/reports/?bbox={','.join(map(str, box))}&limit={LIMIT}"
                if feature_ids(fetch(conn, path)) != expected:
                    sys.exit(f"OS2geo and the floor differ on {box}")
                for name, peer in peer_conns.items():
                    if feature_ids(fetch(peer, PEER_PATHS[name](box, LIMIT))) != expected:
                        sys.exit(f"{name} and the floor differ on {box}")
            for box in boxes:
                path = f"/api/v1/reports/?bbox={','.join(map(str, box))}&limit={LIMIT}"
                start = time.perf_counter()
                floor.execute(floor_statement, [*box, *box, LIMIT]).fetchone()
                floor_t.append(time.perf_counter() - start)

                start = time.perf_counter()
                fetch(conn, path)
                http_t.append(time.perf_counter() - start)

                start = time.perf_counter()
                result = client.get(path)
                proc_t.append(time.perf_counter() - start)
                counts.append(result.content.count(b'"Feature"'))

                for name, peer in peer_conns.items():
                    start = time.perf_counter()
                    fetch(peer, PEER_PATHS[name](box, LIMIT))
                    peer_t[name].append(time.perf_counter() - start)
            if not any(counts):  # a benchmark of empty answers measures nothing
                sys.exit(f"no features in any of the {len(boxes)} bboxes: are the seeded "
                         "reports public?")
            f, h, p = (statistics.median(t) * 1000 for t in (floor_t, http_t, proc_t))
            cells = "".join(f" {statistics.median(t) * 1000:>12.2f} "
                            f"{statistics.median(t) * 1000 / f:>6.2f}"
                            for t in peer_t.values())
            print(f"{target:>8} {statistics.median(counts):>9.0f} {f:>9.2f} {h:>8.2f} "
                  f"{h / f:>6.2f} {p:>10.2f} {p / f:>6.2f}{cells}")
    print("\nratio = median / floor median (target at ~800 features: <= 2); every target "
          "returned the floor's ids for every bbox")
    throughput_section(args, url, total)


if __name__ == "__main__":
    main()
