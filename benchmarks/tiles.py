"""GET /api/v1/tiles/reports/{z}/{x}/{y}.mvt against the floor and against TiPg.

    .venv/bin/python -m pip install -e ".[bench]"      # TiPg and uvicorn, once
    .venv/bin/python benchmarks/tiles.py [--reports 1000000] [--tiles 40]
    .venv/bin/python benchmarks/tiles.py --smoke     # a fresh small database, a few tiles

Random z12-z16 tiles over the seeded reports (benchmarks/_setup.py), each fetched from:
- the floor: the endpoint's own ST_AsMVT statement (reports.tiles.reports_tile_sql), run
  directly through psycopg: what the endpoint costs beyond it is Django and HTTP;
- the endpoint, over HTTP from a daphne process (geoservice.serve, as script/server runs);
- the endpoint again from a daphne process with the tile cache on (reports.tiles; a
  redis-server of the benchmark's own as CACHE_URL): "cached" is a tile's second fetch;
- TiPg (uvicorn, one worker) on the same table and database, over HTTP, asked for the same
  properties it can give from that one table (it cannot join the category name), with the
  same buffer and no feature cap.
Every tile is fetched once from each before timing, so all read from RAM. Medians and p95s
per zoom and overall; ratios against the floor.
"""

from __future__ import annotations

import argparse
import http.client
import random
import statistics
import sys
import time
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import start_tipg, tipg_tile_path  # noqa: E402
from _setup import (  # noqa: E402
    EXTENT,
    SMOKE_REPORTS,
    psycopg_connect,
    run_benchmark,
    seed_reports,
)
from bbox import fetch, free_port, start_daphne, stop  # noqa: E402

ZOOMS = (12, 13, 14, 15, 16)


def random_tiles(n_per_zoom: int, rng: random.Random) -> list[tuple[int, int, int]]:
    from maps.tiles import lonlat_to_tile

    x0, y0, x1, y1 = EXTENT
    tiles = []
    for z in ZOOMS:
        for _ in range(n_per_zoom):
            x, y = lonlat_to_tile(rng.uniform(x0, x1), rng.uniform(y0, y1), z)
            tiles.append((z, x, y))
    return tiles


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--tiles", type=int, default=40, help="random tiles per zoom")
    parser.add_argument("--smoke", action="store_true",
                        help=f"{SMOKE_REPORTS:,} reports in a fresh database, 2 tiles per zoom")
    args = parser.parse_args()
    if args.smoke:
        args.reports, args.tiles = SMOKE_REPORTS, 2
    run_benchmark(args, run)


def run(args, url: str) -> None:
    total = seed_reports(args.reports)
    print(f"{total:,} reports in the benchmark database")

    from reports.tiles import Tile, TileFilters, reports_tile_sql
    from tests.servers import redis_server

    rng = random.Random(11)
    tiles = random_tiles(args.tiles, rng)
    names = ("floor", "ours", "cached", "tipg")
    timings: dict[str, dict[int, list[float]]] = {name: {z: [] for z in ZOOMS} for name in names}
    sizes: dict[int, list[int]] = {z: [] for z in ZOOMS}
    with ExitStack() as stack:
        floor = psycopg_connect()
        stack.callback(floor.close)
        daphne, port = start_daphne(url)
        stack.callback(stop, daphne)
        redis_url = stack.enter_context(redis_server())
        cached_daphne, cached_port = start_daphne(url, redis_url=redis_url)
        stack.callback(stop, cached_daphne)
        tipg_port = free_port()
        tipg = start_tipg(tipg_port)
        if tipg:
            stack.callback(stop, tipg)
        ours = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        cached = http.client.HTTPConnection("127.0.0.1", cached_port, timeout=60)
        peer = http.client.HTTPConnection("127.0.0.1", tipg_port, timeout=60) if tipg else None
        for z, x, y in tiles:  # warm-up: every tile once from each (and into the cache)
            sql, params = reports_tile_sql(Tile(z, x, y), TileFilters())
            floor.execute(sql, params).fetchone()
            fetch(ours, f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt")
            fetch(cached, f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt")
            if peer:
                fetch(peer, tipg_tile_path(z, x, y))
        for z, x, y in tiles:
            sql, params = reports_tile_sql(Tile(z, x, y), TileFilters())
            start = time.perf_counter()
            data = floor.execute(sql, params).fetchone()[0]
            timings["floor"][z].append(time.perf_counter() - start)
            sizes[z].append(len(data or b""))

            for name, conn in (("ours", ours), ("cached", cached)):
                start = time.perf_counter()
                body = fetch(conn, f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt")
                timings[name][z].append(time.perf_counter() - start)
                assert len(body) == len(data or b""), f"{name} and the floor differ"

            if peer:
                start = time.perf_counter()
                fetch(peer, tipg_tile_path(z, x, y))
                timings["tipg"][z].append(time.perf_counter() - start)

    if not any(size for z in ZOOMS for size in sizes[z]):
        sys.exit("every tile was empty: are the seeded reports public?")

    def ms(values: list[float], q: float) -> float:
        if not values:
            return float("nan")
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000

    print(f"\n{'zoom':>5} {'tile kB':>8} {'floor':>7} {'ours':>7} {'/floor':>7} "
          f"{'ours p95':>9} {'cached':>7} {'/floor':>7} {'cached p95':>11} {'tipg':>7}"
          f" {'/floor':>7}")
    rows = [(str(z), [z]) for z in ZOOMS] + [("all", list(ZOOMS))]
    for label, zooms in rows:
        values = {name: [v for z in zooms for v in timings[name][z]] for name in names}
        f, o, c, t = (ms(values[name], 0.5) for name in names)
        kb = statistics.median([s for z in zooms for s in sizes[z]]) / 1024
        print(f"{label:>5} {kb:>8.1f} {f:>7.2f} {o:>7.2f} {o / f:>7.2f} "
              f"{ms(values['ours'], 0.95):>9.2f} {c:>7.2f} {c / f:>7.2f} "
              f"{ms(values['cached'], 0.95):>11.2f} {t:>7.2f} {t / f:>7.2f}")
    print(f"\nmilliseconds; medians (p95 where said) over {args.tiles} random tiles per zoom. "
          "ours: cache off (every tile built); cached: a tile's second fetch with the cache "
          "on. Targets: ours/floor <= 1.25; no tile over 50 ms at p95")


if __name__ == "__main__":
    main()
