"""Capacity: what one machine holds with every part of a national installation at once, on
1 and on 2 web processes.

    .venv/bin/python benchmarks/capacity.py [--reports 10000000] [--addresses 3500000]
        [--sockets 5000] [--staff 50] [--creates 10] [--triage 10] [--readers 4]
        [--seconds 60] [--workers 1,2]
    .venv/bin/python benchmarks/capacity.py --smoke    # a fresh small database, seconds

The installation (benchmarks/_capacity_world.py): the 98 municipalities of the DAGI
boundaries, each served, `--reports` reports across them, `--addresses` addresses imported
from a generated DAWA-layout file through the streaming importer (timed, its peak memory
shown); the Redis channel layer and the shared tile cache (a redis-server of its own), the
notification worker (mails to files).

Then, for each web process count, for `--seconds` at once:
- `--sockets` map sockets (a process of their own) on small views around 100 places where
  people are (addresses in the municipalities with staff), each subscribed to its view;
- creates: `--creates` a second offered, open loop, through the REST API, at those places;
- triage: `--staff` caseworkers (two per municipality, logged-in sessions) who each open
  their queue page and move one of their reports on a step (the dashboard's own POST, with
  the version they saw), `--triage` actions a second in all;
- `--readers` citizens in a closed loop: a z12-z16 tile (cache on) near a place, a ~100
  report list, an address search, a nearest-address lookup, in turn.
Each process count is warmed with a quarter of the run (at most 10 s) first, not counted.
Printed per process count: what was offered and achieved, p50/p99 per kind, errors, and
live reach: of the events each socket's tiles should carry (a create's, a triage's), the
share that arrived, and the delay from the request's start to arrival.

The load runs on the same 2 cores as the service and takes CPU from it.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from contextlib import ExitStack
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _capacity_world import address_count, address_file, import_addresses, seed_national  # noqa: E402
from _setup import ROOT, SMOKE_REPORTS, drop_smoke_database, setup_django  # noqa: E402
from bbox import free_port, stop  # noqa: E402

sys.path.insert(0, str(ROOT))

PLACES = 100
# The staff queue page: its rows (id, version, status) and the points of its map.
ROW = re.compile(rb'data-report-id="(\d+)" data-version="(\d+)".*?class="status status-([a-z_]+)"',
                 re.DOTALL)
POINT = re.compile(rb'"id": (\d+), "geometry": \{"type": "Point", "coordinates": '
                   rb'\[([-0-9.e]+), ([-0-9.e]+)\]')
STAFF_MUNICIPALITIES = 25


# --- the socket farm: a process of its own ------------------------------------------------

async def _farm(port: int, views: list[list[float]], out: Path) -> None:
    from websockets.asyncio.client import connect

    received: list[list] = [[] for _ in views]
    done = asyncio.Event()
    ready = 0

    async def one(index: int, bbox: list[float]) -> None:
        nonlocal ready
        async with connect(f"ws://127.0.0.1:{port}/ws/map/", max_size=None,
                           ping_interval=None, open_timeout=180) as ws:
            await ws.send(json.dumps({"type": "subscribe", "bbox": bbox}))
            reply = json.loads(await ws.recv())
            assert reply["type"] == "subscribed", reply
            ready += 1

            async def listen() -> None:
                async for raw in ws:
                    now = time.time()
                    event = json.loads(raw)
                    if "report_id" in event:
                        received[index].append((event["report_id"], event["version"], now))

            task = asyncio.ensure_future(listen())
            await done.wait()
            task.cancel()

    tasks = []
    for start in range(0, len(views), 100):
        tasks += [asyncio.ensure_future(one(i, views[i]))
                  for i in range(start, min(start + 100, len(views)))]
        while ready < len(tasks):
            await asyncio.sleep(0.05)
            failed = [t for t in tasks if t.done() and t.exception()]
            if failed:
                raise failed[0].exception()
    print("ready", flush=True)
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, done.set)
    await done.wait()
    await asyncio.gather(*tasks, return_exceptions=True)
    out.write_text(json.dumps(received))


def start_farm(port: int, views: list[list[float]], folder: Path) -> tuple[subprocess.Popen,
                                                                          Path]:
    spec, out = folder / "views.json", folder / "received.json"
    spec.write_text(json.dumps(views))
    out.unlink(missing_ok=True)
    farm = subprocess.Popen([sys.executable, __file__, "--farm", str(port), str(spec), str(out)],
                            stdout=subprocess.PIPE, text=True, preexec_fn=_raise_fd_limit)
    line = farm.stdout.readline()
    if line.strip() != "ready":
        sys.exit(f"the socket farm did not connect: {farm.wait()}")
    return farm, out


def _raise_fd_limit() -> None:
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the installation ---------------------------------------------------------------------

def places_and_staff(count_places: int, count_staff: int,
                     rng: random.Random) -> tuple[list[tuple], list[dict]]:
    """Places where people are (addresses in the municipalities with staff) and the staff:
    two caseworkers per municipality, members of all its departments, with a session."""
    from django.contrib.auth import (
        BACKEND_SESSION_KEY,
        HASH_SESSION_KEY,
        SESSION_KEY,
        get_user_model,
    )
    from django.contrib.sessions.backends.db import SessionStore

    from maps.models import Address
    from reports.models import Department, Municipality, StaffMembership

    municipalities = list(Municipality.objects.order_by("code"))
    chosen = rng.sample(municipalities, min(max(1, count_staff // 2), len(municipalities),
                                            STAFF_MUNICIPALITIES))
    places = []
    for index in range(min(PLACES, count_places)):
        municipality = chosen[index % len(chosen)]
        inside = Address.objects.filter(municipality_code=municipality.code,
                                        location__within=municipality.area.geom)
        address = inside.order_by("?").first()
        if address is None:
            sys.exit(f"no addresses inside {municipality.name}")
        spots = [(a.location.x, a.location.y) for a in inside.filter(
            location__dwithin=(address.location, 0.015))[:30]]
        places.append((address.location.x, address.location.y, municipality.code, spots))
    User = get_user_model()
    staff = []
    for index in range(count_staff):
        municipality = chosen[index % len(chosen)]
        user, _ = User.objects.get_or_create(username=f"capacity.{municipality.code}.{index}")
        for department in Department.objects.filter(municipality=municipality):
            StaffMembership.objects.get_or_create(
                user=user, municipality=municipality, department=department,
                defaults={"role": StaffMembership.Role.CASEWORKER})
        session = SessionStore()
        session[SESSION_KEY] = str(user.pk)
        session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
        session[HASH_SESSION_KEY] = user.get_session_auth_hash()
        session.create()
        staff.append({"session": session.session_key, "csrf": secrets.token_hex(16),
                      "municipality": municipality.code})
    return places, staff


def api_key() -> str:
    from reports.api.keys import api_key_issue
    from reports.models import ApiClient

    client, _ = ApiClient.objects.get_or_create(
        name="Capacity client", defaults={"rate_limit_per_minute": 10_000_000})
    return api_key_issue(client=client, label="benchmarks/capacity.py")


def near(place: tuple, rng: random.Random, metres: float) -> tuple[float, float]:
    return (place[0] + rng.uniform(-1, 1) * metres / 63_000,
            place[1] + rng.uniform(-1, 1) * metres / 111_000)


def socket_views(places: list[tuple], n: int, rng: random.Random) -> list[list[float]]:
    """Views of about 3 x 2 km, each around a place."""
    views = []
    for i in range(n):
        lon, lat = near(places[i % len(places)], rng, 1000)
        views.append([round(lon - 0.024, 5), round(lat - 0.009, 5), round(lon + 0.024, 5),
                      round(lat + 0.009, 5)])
    return views


# --- the load -------------------------------------------------------------------------------

class Record:
    """Latencies and failures per kind, shared by the load threads."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = {}
        self.errors: dict[str, int] = {}
        self.events: list[tuple[int, int, float, float, float]] = []  # id, version, lon, lat, t0

        self.first_failure: dict[str, str] = {}
        self.cpu: dict[str, float] = {}  # cores in use per part during the run

    def add(self, kind: str, seconds: float, ok: bool, why: str = "") -> None:
        with self.lock:
            self.times.setdefault(kind, []).append(seconds)
            if not ok:
                self.errors[kind] = self.errors.get(kind, 0) + 1
                self.first_failure.setdefault(kind, why)

    def event(self, report_id: int, version: int, lon: float, lat: float, t0: float) -> None:
        with self.lock:
            self.events.append((report_id, version, lon, lat, t0))


def request(conn: http.client.HTTPConnection, method: str, path: str, body: bytes | None = None,
            headers: dict | None = None) -> tuple[int, bytes, float]:
    start = time.perf_counter()
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
    except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
        # The server closed the idle keep-alive connection (uvicorn after 5 s): reconnect,
        # as browsers and HTTP clients do.
        conn.close()
        start = time.perf_counter()
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
    data = response.read() or (response.getheader("Location") or "").encode()
    return response.status, data, time.perf_counter() - start


def paced(rate: float, until: float, each, offset: float = 0.0) -> None:
    """Call each(i) at `rate` a second (open loop) until `until`, the first `offset` seconds
    from now (lanes of one stream are staggered, not sent in bursts); late calls are not
    made up."""
    if rate <= 0:
        return
    interval, i, next_at = 1 / rate, 0, time.perf_counter() + offset
    while next_at < until:
        delay = next_at - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        each(i)
        i += 1
        next_at += interval


def run_load(args, port: int, places: list[tuple], staff: list[dict], key: str,
             categories: dict[str, str], record: Record, rng_seed: int) -> float:
    from maps.tiles import lonlat_to_tile

    until = time.perf_counter() + args.seconds
    host = ("127.0.0.1", port)

    def creator(lane: int, lanes: int) -> None:
        conn = http.client.HTTPConnection(*host, timeout=60)
        rng = random.Random(rng_seed + lane)

        def create(i: int) -> None:
            place = places[rng.randrange(len(places))]
            lon, lat = rng.choice(place[3])  # at an address near the place
            body = json.dumps({
                "category": categories[place[2]], "description": "Hul i vejen ved cykelstien",
                "location": {"type": "Point", "coordinates": [lon, lat]},
                "reporter": {"name": "Kapacitet", "email": f"c{lane}.{i}@example.dk"}}).encode()
            t0 = time.time()
            status, data, seconds = request(conn, "POST", "/api/v1/reports/", body, {
                "Content-Type": "application/json", "Authorization": f"Api-Key {key}",
                "Idempotency-Key": str(uuid.uuid4())})
            record.add("create", seconds, status == 201, f"{status} {data[:300]!r}")
            if status == 201 and b'"confirmation_required"' not in data:
                answer = json.loads(data)
                properties = answer.get("properties", answer)
                record.event(answer["id"], properties.get("version", 1), lon, lat, t0)

        paced(args.creates / lanes, until, create, offset=lane / args.creates)

    def caseworker(index: int) -> None:
        person = staff[index]
        conn = http.client.HTTPConnection(*host, timeout=60)
        cookie = f"sessionid={person['session']}; csrftoken={person['csrf']}"
        rng = random.Random(rng_seed * 13 + index)
        moves = {"submitted": "acknowledged", "acknowledged": "in_progress",
                 "in_progress": "resolved"}

        def act(i: int) -> None:
            status, data, seconds = request(conn, "GET", "/staff/", headers={"Cookie": cookie})
            record.add("staff queue", seconds, status == 200, f"{status} {data[:300]!r}")
            # What the caseworker sees: each row's id, version and status, and the points
            # of the page's map.
            rows = {int(i): {"version": int(v), "status": st.decode()}
                    for i, v, st in ROW.findall(data)}
            points = {int(i): (float(x), float(y)) for i, x, y in POINT.findall(data)}
            movable = [i for i in list(rows)[:20] if rows[i]["status"] in moves]
            if not movable:
                return
            report_id = rng.choice(movable)
            row = rows[report_id]
            form = (f"csrfmiddlewaretoken={person['csrf']}&version={row['version']}"
                    f"&status={moves[row['status']]}&public_text=Vi+er+i+gang").encode()
            t0 = time.time()
            status, _, seconds = request(
                conn, "POST", f"/staff/reports/{report_id}/status/", form,
                {"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"})
            record.add("triage", seconds, status in (302, 409), f"{status} {_[:300]!r}")
            if status == 302 and report_id in points:
                record.event(report_id, row["version"] + 1, *points[report_id], t0)
            elif status == 409:
                record.add("triage conflict (409)", 0, True)

        paced(args.triage / len(staff), until, act, offset=index / args.triage)

    def reader(lane: int) -> None:
        conn = http.client.HTTPConnection(*host, timeout=60)
        rng = random.Random(rng_seed * 7 + lane)
        i = 0
        while time.perf_counter() < until:
            place = places[rng.randrange(len(places))]
            lon, lat = near(place, rng, 3000)
            kind = ("tile", "list", "address search", "nearest address")[i % 4]
            if kind == "tile":
                z = rng.randint(12, 16)
                x, y = lonlat_to_tile(lon, lat, z)
                path = f"/api/v1/tiles/reports/{z}/{x}/{y}.mvt"
            elif kind == "list":
                path = (f"/api/v1/reports/?bbox={lon - 0.01:.5f},{lat - 0.005:.5f},"
                        f"{lon + 0.01:.5f},{lat + 0.005:.5f}&limit=100")
            elif kind == "address search":
                prefix = rng.choice(["birke", "skov", "strand", "kirke", "mølle", "ny", "ege",
                                     "sønder", "vester", "hav"])
                path = f"/api/v1/addresses/?q={prefix}&limit=10"
            else:
                path = f"/api/v1/addresses/nearest/?lon={lon:.6f}&lat={lat:.6f}"
            status, _, seconds = request(conn, "GET", path.replace("ø", "%C3%B8"))
            record.add(kind, seconds, status == 200, f"{status} {_[:300]!r}")
            i += 1

    lanes = max(1, min(8, round(args.creates)))
    threads = [threading.Thread(target=creator, args=(n, lanes)) for n in range(lanes)]
    threads += [threading.Thread(target=caseworker, args=(n,)) for n in range(len(staff))]
    threads += [threading.Thread(target=reader, args=(n,)) for n in range(args.readers)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def reach(record: Record, views: list[list[float]], received: list[list]) -> dict:
    from django.conf import settings

    from maps.tiles import lonlat_to_tile, tiles_covering

    zoom = settings.LIVE_TILE_ZOOM
    tiles_of = [set(tiles_covering(tuple(v), zoom)) for v in views]
    got: list[dict[int, list[tuple[int, float]]]] = []
    for socket in received:
        by_report: dict[int, list[tuple[int, float]]] = {}
        for report_id, version, at in socket:
            by_report.setdefault(report_id, []).append((version, at))
        got.append(by_report)
    expected = arrived = 0
    delays = []
    for report_id, version, lon, lat, t0 in record.events:
        tile = lonlat_to_tile(lon, lat, zoom)
        for index, tiles in enumerate(tiles_of):
            if tile in tiles:
                expected += 1
                # That version or a later one (one action may write more than one version).
                ats = [at for v, at in got[index].get(report_id, ()) if v >= version]
                if ats:
                    arrived += 1
                    delays.append(min(ats) - t0)
    delays.sort()
    return {"expected": expected, "arrived": arrived, "p50": pct(delays, 0.5),
            "p99": pct(delays, 0.99)}


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


# --- where the CPU went ------------------------------------------------------------------------

def cpu_by_part(server: int, worker: int, farm: int) -> dict[str, float]:
    """CPU seconds so far of each part: the web processes, PostgreSQL, Redis, the worker, the
    socket farm and this load generator (utime + stime from /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    parts = dict.fromkeys(["web", "postgres", "redis", "worker", "sockets (load)",
                           "load generator"], 0.0)
    web = {server}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat.rsplit(")", 1)[1].split()
        pid, parent = int(entry.name), int(fields[1])
        seconds = (int(fields[11]) + int(fields[12])) / ticks
        if pid in web or parent == server:
            parts["web"] += seconds
        elif name.startswith("postgres"):
            parts["postgres"] += seconds
        elif name.startswith("redis-server"):
            parts["redis"] += seconds
        elif pid == worker:
            parts["worker"] += seconds
        elif pid == farm:
            parts["sockets (load)"] += seconds
        elif pid == os.getpid():
            parts["load generator"] += seconds
    return parts


# --- the run --------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reports", type=int, default=10_000_000)
    parser.add_argument("--addresses", type=int, default=3_500_000)
    parser.add_argument("--sockets", type=int, default=5000)
    parser.add_argument("--staff", type=int, default=50)
    parser.add_argument("--creates", type=float, default=10, help="offered creates a second")
    parser.add_argument("--triage", type=float, default=10, help="offered triage actions a s")
    parser.add_argument("--readers", type=int, default=4, help="citizens in a closed loop")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--farm", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true",
                        help="a fresh small database, a few seconds of every part")
    args = parser.parse_args()
    if args.farm:
        port, views, out = args.farm
        asyncio.run(_farm(int(port), json.loads(Path(views).read_text()), Path(out)))
        return
    args.workers = [int(n) for n in args.workers.split(",")]
    if args.smoke:
        args.reports, args.addresses, args.sockets, args.staff = SMOKE_REPORTS, 5000, 40, 4
        args.creates, args.triage, args.readers, args.seconds = 4, 4, 2, 4
    _raise_fd_limit()

    from tests.servers import redis_server

    with ExitStack() as stack:
        redis_url = stack.enter_context(redis_server())
        cache_url = redis_url.rsplit("/", 1)[0] + "/1"
        # The servers' secret too: the caseworkers' sessions are made here.
        os.environ.update(REDIS_URL=redis_url, CACHE_URL=cache_url, SECRET_KEY="benchmark")
        url = setup_django(smoke=args.smoke, name_suffix="_capacity")  # its own: 10 M rows
        if args.smoke:
            stack.callback(drop_smoke_database)
        run(args, url, redis_url, cache_url, stack)


def run(args, url: str, redis_url: str, cache_url: str, stack: ExitStack) -> None:
    from django.db import connection

    from reports.models import Category

    started = time.perf_counter()
    total = seed_national(args.reports)
    print(f"{total:,} reports across the municipalities ({time.perf_counter() - started:.0f} s)")
    imported = None
    if address_count() < args.addresses:
        path = address_file(args.addresses)
        imported = import_addresses(path, url)
    addresses = address_count()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_municipality")
        municipalities = cursor.fetchone()[0]
        cursor.execute("SELECT pg_size_pretty(pg_database_size(current_database()))")
        size = cursor.fetchone()[0]
    print(f"{municipalities} municipalities, {addresses:,} addresses, database {size}")
    if imported:
        print(f"address import: {imported['seconds']:.0f} s, peak memory "
              f"{imported['peak_mb']:.0f} MB: {imported['summary']}")

    rng = random.Random(5)
    places, staff = places_and_staff(args.sockets, args.staff, rng)
    views = socket_views(places, args.sockets, rng)
    key = api_key()
    categories = {}
    for code in {p[2] for p in places}:
        category = Category.objects.filter(municipality__code=code, active=True,
                                           questions__isnull=True, code="pothole").first() \
            or Category.objects.filter(municipality__code=code, active=True,
                                       questions__isnull=True).first()
        categories[code] = category.code
    mail = Path(tempfile.mkdtemp(prefix="capacity-mail-"))
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="benchmark",
               LOG_LEVEL="WARNING", REDIS_URL=redis_url, CACHE_URL=cache_url,
               EMAIL_FILE_PATH=str(mail), ALLOWED_HOSTS="127.0.0.1,localhost")
    worker = subprocess.Popen([sys.executable, "manage.py", "reports_notify_worker"], cwd=ROOT,
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(stop, worker)
    address_lookups(env, places, 40 if args.smoke else 400)
    results = []
    for workers in args.workers:
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "geoservice.serve", "--workers", str(workers), "-b",
             "127.0.0.1", "-p", str(port), "geoservice.asgi:application"], cwd=ROOT, env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            from _peers import wait_for

            wait_for(port, "/api/v1/health", server, "OS2geo")
            time.sleep(3 if workers > 1 else 0)  # the others load Django after the first
            farm, out = start_farm(port, views, Path(tempfile.mkdtemp(prefix="capacity-")))
            warm = argparse.Namespace(**{**vars(args), "seconds": min(args.seconds / 4, 10)})
            run_load(warm, port, places, staff, key, categories, Record(), workers + 100)
            record = Record()
            before = cpu_by_part(server.pid, worker.pid, farm.pid)
            elapsed = run_load(args, port, places, staff, key, categories, record, workers)
            after = cpu_by_part(server.pid, worker.pid, farm.pid)
            record.cpu = {part: (after[part] - before[part]) / elapsed for part in after}
            time.sleep(3)  # the last events on their way
            farm.send_signal(signal.SIGTERM)
            farm.wait(120)
            received = json.loads(out.read_text())
        finally:
            stop(server)
        results.append((workers, elapsed, record, reach(record, views, received)))
        print(f"  {workers} process{'es' if workers > 1 else ''} done", flush=True)
    report(args, results)


def address_lookups(env: dict, places: list[tuple], n: int) -> None:
    """Address search and nearest address one at a time, before the load: over HTTP on one
    process, and the selector alone in this process (the database's share)."""
    from django.contrib.gis.geos import Point

    from maps.models import Address
    from maps.selectors import addresses_search, nearest_address

    rng = random.Random(9)
    texts = list(Address.objects.order_by("?").values_list("search_text", flat=True)[:n])
    prefixes = [t[:rng.randint(3, 12)] for t in texts]
    points = [(p[0] + rng.uniform(-0.05, 0.05), p[1] + rng.uniform(-0.03, 0.03))
              for p in (places[i % len(places)] for i in range(n))]
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "geoservice.serve", "--workers", "1", "-b", "127.0.0.1", "-p",
         str(port), "geoservice.asgi:application"], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    from urllib.parse import quote

    from _peers import wait_for

    timings: dict[str, list[float]] = {}
    try:
        wait_for(port, "/api/v1/health", server, "OS2geo")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for prefix, (lon, lat) in zip(prefixes, points, strict=True):
            for kind, path in (("search", f"/api/v1/addresses/?q={quote(prefix)}&limit=10"),
                               ("nearest", f"/api/v1/addresses/nearest/?lon={lon:.6f}"
                                           f"&lat={lat:.6f}")):
                status, data, seconds = request(conn, "GET", path)
                if status != 200:
                    sys.exit(f"GET {path}: {status} {data[:200]!r}")
                timings.setdefault(f"{kind} http", []).append(seconds)
            start = time.perf_counter()
            list(addresses_search(prefix, limit=10))
            timings.setdefault("search selector", []).append(time.perf_counter() - start)
            start = time.perf_counter()
            nearest_address(Point(lon, lat, srid=4326))
            timings.setdefault("nearest selector", []).append(time.perf_counter() - start)
    finally:
        stop(server)
    print(f"\naddresses, {n} lookups each, one at a time (targets: search p95 <= 20 ms, "
          "nearest <= 5 ms)")
    for kind, values in timings.items():
        print(f"{kind:>18} p50 {pct(values, 0.5):>6.2f} ms  p95 {pct(values, 0.95):>6.2f} ms")


def report(args, results) -> None:
    kinds = ["create", "triage", "staff queue", "tile", "list", "address search",
             "nearest address"]
    print(f"\ncapacity: {args.sockets:,} map sockets, {args.staff} caseworkers, "
          f"{args.creates:g} creates/s and {args.triage:g} triage actions/s offered, "
          f"{args.readers} citizens reading, {args.seconds:.0f} s per process count")
    print(f"{'':>16}" + "".join(f" | {f'{w} process' + ('es' if w > 1 else ''):^26}"
                                  for w, *_ in results))
    print(f"{'kind':>16}" + " | {:>8} {:>8} {:>8}".format("per s", "p50 ms", "p99 ms")
          * len(results))
    for kind in kinds:
        row = f"{kind:>16}"
        for _, elapsed, record, _ in results:
            times = record.times.get(kind, [])
            errors = record.errors.get(kind, 0)
            row += (f" | {len(times) / elapsed:>8.1f} {pct(times, 0.5):>8.1f} "
                    f"{pct(times, 0.99):>8.1f}") + (f" ({errors} failed)" if errors else "")
        print(row)
    row = f"{'live reach':>16}"
    for *_, live in results:
        share = live["arrived"] / live["expected"] if live["expected"] else float("nan")
        row += f" | {share:>8.1%} {live['p50']:>8.1f} {live['p99']:>8.1f}"
    print(row)
    cores = os.cpu_count() or 1
    print(f"\nCPU in use during the run, in cores (this machine has {cores}):")
    for part in results[0][2].cpu:
        print(f"{part:>16}" + "".join(f" | {r[2].cpu[part]:>8.2f}{'':>18}" for r in results))
    for workers, _, record, _ in results:
        for kind, why in record.first_failure.items():
            print(f"first failed {kind} on {workers} process(es): {why}")
    conflicts = [len(r.times.get("triage conflict (409)", [])) for _, _, r, _ in results]
    print(f"\nlive reach: events that each socket's tiles carry, arrived / expected "
          f"({', '.join(str(r[3]['expected']) for r in results)} expected); its p50/p99 are "
          "the delay from the request's start to arrival. Triage conflicts (409, two "
          f"caseworkers on one report): {', '.join(map(str, conflicts))}.")


if __name__ == "__main__":
    main()
