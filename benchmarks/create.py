"""POST /api/v1/reports/ under load: reports filed per second by several API clients at once,
on 1 and 2 web processes, and the same requests replayed with their Idempotency-Keys.

    .venv/bin/python benchmarks/create.py [--clients 4] [--seconds 15] [--workers 1,2]
    .venv/bin/python benchmarks/create.py --smoke     # a fresh database, 1 s per target

Every request is a whole filing: an API key, a fresh Idempotency-Key, a point in Ballerup,
a category, a reporter with an e-mail address (so the receipt and the department's mail are
written to the outbox, and the reporter follows the report), routing, the timeline and the
live event. No notification worker runs: the outbox only fills.

The floor is the database's least share of one filing: one report row inserted per
transaction through psycopg (the benchmark seeder's INSERT), on as many connections. The
clients run on the same machine as the server and take CPU from it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import psycopg_connect, run_benchmark, seed_sql  # noqa: E402
from bbox import serving, throughput  # noqa: E402

BALLERUP = (12.3630, 55.7304)  # Ballerup town centre


def api_key() -> str:
    from reports.api.keys import api_key_issue
    from reports.models import ApiClient

    client, _ = ApiClient.objects.get_or_create(
        name="Benchmark client", defaults={"rate_limit_per_minute": 10_000_000})
    return api_key_issue(client=client, label="benchmarks/create.py")


def category_code(port: int) -> str:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", f"/api/v1/categories/?lon={BALLERUP[0]}&lat={BALLERUP[1]}")
    categories = json.loads(conn.getresponse().read())["categories"]
    return next(c["code"] for c in categories if not c["questions"])


def floor_rate(clients: int, seconds: float) -> float:
    from reports.models import Municipality

    sql, defaults = seed_sql()
    params = {**defaults, "m": Municipality.objects.get(code="0151").pk, "x0": BALLERUP[0],
              "y0": BALLERUP[1], "dx": 0.001, "dy": 0.001, "n": 1}
    conns = [psycopg_connect() for _ in range(clients)]

    def insert(client: int, i: int) -> None:
        conns[client].execute(sql, params)  # autocommit: one transaction per row

    try:
        return throughput(clients, seconds, insert)
    finally:
        for conn in conns:
            conn.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=4, help="API clients at once")
    parser.add_argument("--seconds", type=float, default=15, help="per target")
    parser.add_argument("--workers", default="1,2", help="web process counts, e.g. 1,2,4")
    parser.add_argument("--smoke", action="store_true",
                        help="a fresh database, 1 s per target")
    args = parser.parse_args()
    args.workers = [int(n) for n in args.workers.split(",")]
    if args.smoke:
        args.seconds = 1
    run_benchmark(args, run)


def run(args, url: str) -> None:
    from reports.models import Report

    key = api_key()
    floor = floor_rate(args.clients, args.seconds)
    before, created = Report.objects.count(), 0
    print(f"\nPOST /api/v1/reports/, {args.clients} API clients at once, {args.seconds:.0f} s "
          "per target")
    print(f"{'target':>26} {'per s':>8} {'/ floor':>8} {'/ 1 process':>12}")
    print(f"{'floor (one INSERT)':>26} {floor:>8.1f} {1:>8.2f}")
    single = None
    for workers in args.workers:
        with serving(url, workers) as port:
            category = category_code(port)
            conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                     for _ in range(args.clients)]
            sent: list[list[str]] = [[] for _ in range(args.clients)]

            def post(client: int, idempotency_key: str, conns=conns,
                     category=category) -> int:
                body = json.dumps({
                    "category": category, "description": "Hul i vejen ved cykelstien",
                    "location": {"type": "Point", "coordinates": list(BALLERUP)},
                    "reporter": {"name": "Benchmark", "email": f"b{client}@example.dk"}})
                conns[client].request("POST", "/api/v1/reports/", body=body, headers={
                    "Content-Type": "application/json", "Authorization": f"Api-Key {key}",
                    "Idempotency-Key": idempotency_key})
                response = conns[client].getresponse()
                answer = response.read()
                assert response.status in (200, 201), (response.status, answer[:300])
                return response.status

            def create(client: int, i: int, sent=sent, post=post) -> None:
                idempotency_key = str(uuid.uuid4())
                assert post(client, idempotency_key) == 201
                sent[client].append(idempotency_key)

            def replay(client: int, i: int, sent=sent, post=post) -> None:
                post(client, sent[client][i % len(sent[client])])

            throughput(args.clients, min(args.seconds, 2), create)  # warm every process
            rate = throughput(args.clients, args.seconds, create)
            single = single or rate
            label = f"create, {workers} process" + ("es" if workers > 1 else "")
            print(f"{label:>26} {rate:>8.1f} {rate / floor:>8.2f} {rate / single:>12.2f}")
            replayed = throughput(args.clients, args.seconds, replay)
            label = f"replay, {workers} process" + ("es" if workers > 1 else "")
            print(f"{label:>26} {replayed:>8.1f} {replayed / floor:>8.2f} "
                  f"{replayed / single:>12.2f}")
            created += sum(len(keys) for keys in sent)
    filed = Report.objects.count() - before
    print(f"\n{created:,} reports acknowledged, {filed:,} filed: a replay filed nothing new"
          if filed == created else f"\n{created:,} acknowledged but {filed:,} filed")
    if filed != created:
        sys.exit(1)


if __name__ == "__main__":
    main()
