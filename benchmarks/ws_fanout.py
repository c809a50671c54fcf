"""Live-update fan-out: N websocket clients on one daphne process with the Redis channel
layer, all subscribed to the area where reports change. For each change we measure
commit-to-receipt latency at every client (p50, p99) and reach (received / expected).

The floor, in the same run: a bare `websockets` server that broadcasts the same payloads to
the same number of clients (latency from handing it the payload to receipt).

    .venv/bin/python benchmarks/ws_fanout.py [--clients 100,1000,5000] [--events 20]
    .venv/bin/python benchmarks/ws_fanout.py --smoke     # 20 clients, 3 events, fresh database
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _setup import ROOT, drop_smoke_database, setup_django  # noqa: E402

BBOX = [12.34, 55.72, 12.38, 55.74]
POINT = (12.3633, 55.7300)


def raise_fd_limit() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


# --- the floor: a bare websockets broadcaster -------------------------------------------

async def floor_server(port: int) -> None:
    from websockets.asyncio.server import broadcast, serve

    clients = set()

    async def handler(ws):
        if ws.request.path == "/control":
            async for payload in ws:
                broadcast(clients, payload)
                await ws.send("sent")
            return
        clients.add(ws)
        try:
            await ws.wait_closed()
        finally:
            clients.discard(ws)

    async with serve(handler, "127.0.0.1", port, max_queue=None, ping_interval=None):
        await asyncio.Future()


# --- clients ------------------------------------------------------------------------------

class Client:
    def __init__(self):
        self.received: dict[tuple[int, int], float] = {}

    async def run(self, url: str, subscribe: bool, ready: asyncio.Event, done: asyncio.Event):
        from websockets.asyncio.client import connect

        async with connect(url, max_size=None, ping_interval=None, open_timeout=120) as ws:
            if subscribe:
                await ws.send(json.dumps({"type": "subscribe", "bbox": BBOX}))
                reply = json.loads(await ws.recv())
                assert reply["type"] == "subscribed", reply
            ready.set()
            receive = asyncio.ensure_future(self._receive(ws))
            await done.wait()
            receive.cancel()

    async def _receive(self, ws):
        async for raw in ws:
            now = time.monotonic()
            event = json.loads(raw)
            if "report_id" in event:
                self.received[(event["report_id"], event["version"])] = now


async def connect_all(url: str, n: int, subscribe: bool) -> tuple[list[Client], asyncio.Event,
                                                                   list[asyncio.Task]]:
    clients, tasks, done = [], [], asyncio.Event()
    batch = 100
    for start in range(0, n, batch):
        readies = []
        for _ in range(min(batch, n - start)):
            client, ready = Client(), asyncio.Event()
            clients.append(client)
            readies.append(ready)
            tasks.append(asyncio.ensure_future(client.run(url, subscribe, ready, done)))
        await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 180)
    return clients, done, tasks


def summarise(clients: list[Client], sent: dict[tuple[int, int], float]) -> dict:
    latencies, received = [], 0
    for client in clients:
        for key, t0 in sent.items():
            if key in client.received:
                received += 1
                latencies.append(client.received[key] - t0)
    latencies.sort()
    expected = len(clients) * len(sent)

    def pct(p):
        return latencies[min(len(latencies) - 1, int(p * len(latencies)))] * 1000 if latencies \
            else float("nan")
    return {"p50": pct(0.50), "p99": pct(0.99), "reach": received / expected if expected else 0}


async def run_os2geo(port: int, n: int, events: int, report_id: int, gap: float) -> dict:
    from django.db import transaction

    from reports import services
    from reports.models import Report

    clients, done, tasks = await connect_all(f"ws://127.0.0.1:{port}/ws/map/", n, True)
    sent: dict[tuple[int, int], float] = {}

    def change(status: str) -> None:
        stamp = {}
        with transaction.atomic():
            # Registered first, so it runs first at commit: the commit time.
            transaction.on_commit(lambda: stamp.setdefault("t0", time.monotonic()))
            report = services.report_transition(report_id=report_id, to_status=status)
        sent[(report_id, report.version)] = stamp["t0"]

    statuses = ["acknowledged", "resolved"]  # resolved -> acknowledged (reopen) and back
    current = await asyncio.to_thread(lambda: Report.objects.get(pk=report_id).status)
    for index in range(events):
        target = statuses[index % 2] if current != statuses[index % 2] else statuses[
            (index + 1) % 2]
        await asyncio.to_thread(change, target)
        current = target
        await asyncio.sleep(gap)
    await asyncio.sleep(max(2.0, gap * 4))
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summarise(clients, sent)


async def run_floor(port: int, n: int, payloads: list[str], gap: float) -> dict:
    from websockets.asyncio.client import connect

    clients, done, tasks = await connect_all(f"ws://127.0.0.1:{port}/feed", n, False)
    sent = {}
    async with connect(f"ws://127.0.0.1:{port}/control", max_size=None) as control:
        for payload in payloads:
            event = json.loads(payload)
            sent[(event["report_id"], event["version"])] = time.monotonic()
            await control.send(payload)
            await control.recv()
            await asyncio.sleep(gap)
    await asyncio.sleep(max(2.0, gap * 4))
    done.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return summarise(clients, sent)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", default="100,1000,5000")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--floor-server", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--smoke", action="store_true",
                        help="20 clients and 3 events in a fresh database")
    args = parser.parse_args()
    if args.smoke:
        args.clients, args.events = "20", 3
    raise_fd_limit()
    if args.floor_server:
        asyncio.run(floor_server(args.floor_server))
        return

    sys.path.insert(0, str(ROOT))
    from tests.servers import daphne_server, free_port, redis_server, wait_for_port

    with redis_server() as redis_url:
        os.environ["REDIS_URL"] = redis_url
        url = setup_django(smoke=args.smoke)
        from django.contrib.gis.geos import Point

        from reports import selectors, services

        report = services.report_create(location=Point(*POINT, srid=4326),
                                        category_code="pothole", description="Fan-out")
        payload_template = json.loads(selectors.public_feature(report.pk))
        floor_port = free_port()
        floor = subprocess.Popen([sys.executable, __file__, "--floor-server", str(floor_port)],
                                 preexec_fn=raise_fd_limit)
        wait_for_port(floor_port, floor)
        results = []
        try:
            with daphne_server(log_path=Path("/tmp/ws_fanout_daphne.log"), DATABASE_URL=url,
                               REDIS_URL=redis_url, DEBUG="0", SECRET_KEY="benchmark") as port:
                for n in (int(x) for x in args.clients.split(",")):
                    gap = 0.2 if n <= 1000 else 1.0
                    ours = asyncio.run(run_os2geo(port, n, args.events, report.pk, gap))
                    payloads = [json.dumps({"type": "report.updated", "report_id": report.pk,
                                            "version": 10_000 + i, "feature": payload_template})
                                for i in range(args.events)]
                    base = asyncio.run(run_floor(floor_port, n, payloads, gap))
                    results.append((n, ours, base))
                    print(f"  {n} clients done", flush=True)
        finally:
            floor.terminate()
            if args.smoke:
                drop_smoke_database()
    print(f"\n{'clients':>8} | {'OS2geo p50':>10} {'p99':>8} {'reach':>7} | {'floor p50':>9} "
          f"{'p99':>8} {'reach':>7} | {'p50 x':>6} {'p99 x':>6}")
    for n, ours, base in results:
        print(f"{n:>8} | {ours['p50']:>8.1f}ms {ours['p99']:>6.1f}ms {ours['reach']:>7.1%} | "
              f"{base['p50']:>7.1f}ms {base['p99']:>6.1f}ms {base['reach']:>7.1%} | "
              f"{ours['p50'] / base['p50']:>6.2f} {ours['p99'] / base['p99']:>6.2f}")
    print("\nlatency: commit (OS2geo) or hand-over (floor) to receipt at a client; "
          "targets: reach 100 % at every N, p99 <= 2x the floor at 1,000 clients")


if __name__ == "__main__":
    main()
