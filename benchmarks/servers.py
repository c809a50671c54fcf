"""The fixed cost of one request on each ASGI server: OS2geo's cheapest endpoint (Open311
discovery: no database) against a bare ASGI app that returns the same bytes, on daphne and
uvicorn (httptools, uvloop) as geoservice.serve runs them (WEB_SERVER), and on granian, one
process each.

    .venv/bin/python benchmarks/servers.py [--requests 2000] [--seconds 10] [--clients 4]
    .venv/bin/python benchmarks/servers.py --smoke     # a few requests per server

For each server and app: the median and p99 of sequential requests on one kept-alive
connection, and requests per second from --clients connections at once. The floor is the
bare app on the fastest server; "Django" columns are what OS2geo's stack adds on that server.
Granian is skipped when it is not installed (it comes with the [dev] and [bench] extras).
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _peers import wait_for  # noqa: E402
from _setup import ROOT, run_benchmark  # noqa: E402
from bbox import free_port, stop, throughput  # noqa: E402

PATH = "/open311/v2/discovery.json"
APP = "geoservice.asgi:application"
BARE = "_bare_asgi:app"


def commands(app: str, port: int) -> dict[str, list[str]]:
    """daphne and uvicorn as geoservice.serve runs them (WEB_SERVER), granian plainly."""
    python = sys.executable
    serve = [python, "-m", "geoservice.serve", "-b", "127.0.0.1", "-p", str(port), app]
    found = {"daphne": ["env", "WEB_SERVER=daphne", *serve],
             "uvicorn": ["env", "WEB_SERVER=uvicorn", *serve]}
    if importlib.util.find_spec("granian"):
        found["granian"] = [python, "-m", "granian", "--interface", "asgi", "--host",
                            "127.0.0.1", "--port", str(port), "--workers", "1",
                            "--log-level", "warning", app]
    return found


def start(command: list[str], port: int, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(port, PATH, process, " ".join(command[:4]))
    return process


def sequential(port: int, n: int) -> tuple[float, float, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    times, body = [], b""
    for _ in range(n):
        start_at = time.perf_counter()
        conn.request("GET", PATH)
        response = conn.getresponse()
        body = response.read()
        times.append(time.perf_counter() - start_at)
        assert response.status == 200
    conn.close()
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99)] * 1000, body


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--smoke", action="store_true", help="50 requests, 1 s per server")
    args = parser.parse_args()
    if args.smoke:
        args.requests, args.seconds = 50, 1
    run_benchmark(args, run)


def run(args, url: str) -> None:
    env = dict(os.environ, DATABASE_URL=url, DEBUG="0", SECRET_KEY="benchmark",
               LOG_LEVEL="WARNING",
               PYTHONPATH=str(Path(__file__).resolve().parent))
    # The bare app answers with what the endpoint answers (taken from daphne first).
    port = free_port()
    process = start(commands(APP, port)["daphne"], port, env)
    try:
        _, _, body = sequential(port, 1)
    finally:
        stop(process)
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as handle:
        handle.write(body)
    env["BARE_BODY_FILE"] = handle.name

    results: dict[tuple[str, str], tuple[float, float, float]] = {}
    servers = list(commands(APP, 0))
    for server in servers:
        for label, app in (("bare", BARE), ("OS2geo", APP)):
            port = free_port()
            process = start(commands(app, port)[server], port, env)
            try:
                sequential(port, min(200, args.requests))  # warm-up
                median, p99, answer = sequential(port, args.requests)
                assert len(answer) == len(body), f"{server} {label} answered differently"
                conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                         for _ in range(args.clients)]

                def ask(client: int, i: int, conns=conns) -> None:
                    conns[client].request("GET", PATH)
                    conns[client].getresponse().read()

                rate = throughput(args.clients, args.seconds, ask)
            finally:
                stop(process)
            results[(server, label)] = (median, p99, rate)
    os.unlink(handle.name)

    floor = min(results[(server, "bare")][0] for server in servers)
    print(f"\nGET {PATH} ({len(body)} bytes), one process per server; {args.requests} "
          f"sequential requests, then {args.clients} connections for {args.seconds:g} s")
    print(f"{'server':>8} {'app':>7} {'median ms':>10} {'p99 ms':>8} {'/ floor':>8} "
          f"{'req/s':>8} {'Django adds ms':>15}")
    for server in servers:
        for label in ("bare", "OS2geo"):
            median, p99, rate = results[(server, label)]
            adds = median - results[(server, "bare")][0] if label == "OS2geo" else 0.0
            print(f"{server:>8} {label:>7} {median:>10.3f} {p99:>8.3f} {median / floor:>8.2f} "
                  f"{rate:>8.0f} {adds:>15.3f}")
    print("\nfloor: the bare app on the fastest server; the clients share the machine's CPU")


if __name__ == "__main__":
    main()
