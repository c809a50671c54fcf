"""Fault injection: nothing lost, nothing doubled, nothing stuck.

    .venv/bin/python benchmarks/faults.py            # every fault, full length (~15 min)
    .venv/bin/python benchmarks/faults.py --short    # every fault, short (what CI runs)
    .venv/bin/python benchmarks/faults.py --only postgres-kill,web-kill

It starts the real pieces itself: a PostgreSQL + PostGIS cluster of its own, redis-server, the
web process (daphne, as script/server serves), the notification worker, an SMTP server and a
webhook receiver (both in this process, both able to refuse). API clients file reports over
`POST /api/v1/reports/` with an Idempotency-Key each, retrying the same key on network
errors, 5xx, 409 and 429; a public map socket and a staff queue socket follow the changes
and catch up (after a reconnect or a `resync`) with `updated_after`, as docs/live.md says a
client must. Then each fault is injected under that load:

  none             no fault (the baseline)
  postgres-kill    kill -9 of the postmaster and every backend; restarted 5 s later
  postgres-restart a clean restart (pg_ctl restart -m fast)
  web-kill         kill -9 of the web process; started again 3 s later
  redis-stop       redis-server stopped (60 s; short: 8 s) and started again, empty
  smtp-refusing    the SMTP server answers 451 to every mail (60 s; short: 8 s)
  webhook-refusing the webhook receiver answers 503 (60 s; short: 8 s)

After each fault it audits the database and what the receivers got: every acknowledged key
maps to exactly one report, no report exists twice, no key is left unacknowledged once the
pieces are back, the outbox is drained within the stated time, every mail and webhook
arrived (a second arrival carries the same Message-ID / X-OS2geo-Delivery, so the receiver
can drop it), the map and staff sockets know every report, every public report is in its
map tile (a reader keeps the tiles in the shared tile cache throughout, as open maps do, so a
change the cache missed would show), no request got a 500, and the
worker and web processes that were not killed are the same processes as before. It prints
one table, one row per fault, and exits non-zero if any row breaks a promise.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import signal
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from _faults_tiles import TileReader  # noqa: E402
from _faults_world import (  # noqa: E402
    BBOX,
    Installation,
    LiveClient,
    Traffic,
    api_client,
)

from tests.servers import (  # noqa: E402
    PostgresCluster,
    prepare_os2geo_database,
)

FAULTS = ("none", "postgres-kill", "postgres-restart", "web-kill", "redis-stop",
          "smtp-refusing", "webhook-refusing")


@dataclass(frozen=True)
class Plan:
    clients: int
    fault_at: float  # seconds into the load
    after: float  # seconds of load after the fault ended
    postgres_down: float
    web_down: float
    outage: float  # Redis, SMTP and webhook outages
    retry_window: float  # how long a client keeps retrying one key
    drain_within: float  # the stated time for the outbox to drain after the fault

    def load_seconds(self, fault: str) -> float:
        length = {"postgres-kill": self.postgres_down, "web-kill": self.web_down,
                  "postgres-restart": 2.0, "none": 0.0}.get(fault, self.outage)
        return self.fault_at + length + self.after


FULL = Plan(clients=8, fault_at=10, after=15, postgres_down=5, web_down=3, outage=60,
            retry_window=90, drain_within=120)
SHORT = Plan(clients=4, fault_at=3, after=4, postgres_down=5, web_down=3, outage=8,
             retry_window=60, drain_within=60)


def log(text: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {text}", flush=True)


# --- one fault -----------------------------------------------------------------------------

@dataclass
class Row:
    fault: str
    values: dict[str, object]
    problems: list[str]


def _refusing_for(receiver, name: str, seconds: float) -> None:
    """A receiver (the SMTP server, the webhook receiver) refuses everything for a while."""
    receiver.refusing = True
    log(f"{name} refusing")
    time.sleep(seconds)
    receiver.refusing = False
    log(f"{name} accepting again")


def inject(fault: str, installation: Installation, cluster: PostgresCluster,
           plan: Plan) -> None:
    if fault == "postgres-kill":
        log(f"kill -9 of PostgreSQL ({cluster.kill9()} processes)")
        time.sleep(plan.postgres_down)
        cluster.start()
        log("PostgreSQL started again")
    elif fault == "postgres-restart":
        cluster.restart()
        log("PostgreSQL restarted (fast)")
    elif fault == "web-kill":
        installation.kill_web()
        log("kill -9 of the web process")
        time.sleep(plan.web_down)
        installation.start_web()
        log("web process started again")
    elif fault == "redis-stop":
        installation.redis.stop()
        log("redis-server stopped")
        time.sleep(plan.outage)
        installation.redis.start()
        log("redis-server started again (empty)")
    elif fault == "smtp-refusing":
        _refusing_for(installation.smtp, "SMTP", plan.outage)
    elif fault == "webhook-refusing":
        _refusing_for(installation.hooks, "webhook receiver", plan.outage)


def run_fault(fault: str, cluster: PostgresCluster, template: str, plan: Plan,
              workdir: Path, seed: int) -> Row:
    log(f"--- {fault}")
    installation = Installation(cluster, template, f"faults_{fault.replace('-', '_')}",
                                plan.clients,
                                workdir / fault)
    try:
        return _run_fault(fault, installation, cluster, plan, seed)
    finally:
        installation.close()


def _run_fault(fault: str, installation: Installation, cluster: PostgresCluster, plan: Plan,
               seed: int) -> Row:
    worker_pid = installation.worker.pid
    web_pid = installation.web.pid
    live = [LiveClient(installation, "map"), LiveClient(installation, "staff")]
    tiles = TileReader(installation.port, BBOX)
    time.sleep(1.5)  # the sockets are subscribed before the first report
    traffic, stop_new = Traffic(), threading.Event()
    clients = [threading.Thread(target=api_client, daemon=True, args=(
        installation.port, key, stop_new, traffic, plan.retry_window,
        random.Random(seed + i))) for i, key in enumerate(installation.api_keys)]
    started = time.monotonic()
    for client in clients:
        client.start()
    time.sleep(plan.fault_at)
    inject(fault, installation, cluster, plan)
    recovered = time.monotonic()
    time.sleep(max(0.0, started + plan.load_seconds(fault) - time.monotonic()))
    stop_new.set()
    for client in clients:
        client.join(plan.retry_window + 30)
    load_seconds = time.monotonic() - started

    # The outbox drains, then the sockets have had time to hear or catch up.
    drained_in = None
    deadline = recovered + plan.drain_within
    while time.monotonic() < deadline:
        with contextlib.suppress(Exception):
            waiting = installation.sql(
                "SELECT count(*) FROM reports_notification WHERE state <> 'sent'")[0][0]
            if waiting == 0:
                drained_in = time.monotonic() - recovered
                break
        time.sleep(0.5)
    time.sleep(2)
    for client in live:
        client.close()
    tiles.close()
    return audit(fault, installation, traffic, live, tiles, plan, drained_in, load_seconds,
                 worker_pid, web_pid)


def audit(fault: str, installation: Installation, traffic: Traffic, live: list[LiveClient],
          tiles: TileReader, plan: Plan, drained_in: float | None, load_seconds: float,
          worker_pid: int, web_pid: int) -> Row:
    filings = traffic.filings
    rows = installation.sql("SELECT id, description, department_id FROM reports_report "
                            "WHERE description LIKE 'fault %%'")
    by_description: dict[str, list[int]] = {}
    departments: dict[int, int] = {}
    for report_id, description, department in rows:
        by_description.setdefault(description, []).append(report_id)
        departments[report_id] = department
    acknowledged = [f for f in filings if f.acknowledged_id is not None]
    stuck = [f for f in filings if f.acknowledged_id is None and not f.rejected]
    duplicates = sum(len(ids) - 1 for ids in by_description.values() if len(ids) > 1)
    lost = [f for f in acknowledged if by_description.get(f.description) != [f.acknowledged_id]]
    stuck_filed = [f for f in stuck if by_description.get(f.description)]
    rejected = [f for f in filings if f.rejected]

    notifications = installation.sql(
        "SELECT channel, state, delivery_id::text FROM reports_notification")
    mails = {d for c, _, d in notifications if c == "email"}
    hooks = {d for c, _, d in notifications if c == "webhook"}
    received_mails = {m.strip("<>").split("@")[0] for m in installation.smtp.message_ids}
    received_hooks = set(installation.hooks.delivery_ids)
    unsent = sum(1 for _, state, _ in notifications if state != "sent")
    mails_missing = len(mails - received_mails)
    hooks_missing = len(hooks - received_hooks)
    mail_replays = len(installation.smtp.message_ids) - len(set(installation.smtp.message_ids))
    hook_replays = len(installation.hooks.delivery_ids) - len(received_hooks)

    all_ids = {i for ids in by_description.values() for i in ids}
    map_client, staff_client = live
    map_missing = len(all_ids - map_client.seen)
    staff_ids = {i for i in all_ids if departments[i] in installation.departments}
    staff_missing = len(staff_ids - staff_client.seen)
    public = installation.sql("SELECT id, ST_X(location), ST_Y(location) FROM reports_report "
                              "WHERE description LIKE 'fault %%' AND public")
    tiles_missing = tiles.missing(public)
    errors_500 = sum(n for status, n in traffic.statuses.items() if status >= 500
                     and status != 503)
    worker_alive = installation.worker.poll() is None and installation.worker.pid == worker_pid
    web_same = installation.web.pid == web_pid

    values = {
        "acknowledged": len(acknowledged), "duplicates": duplicates, "stuck keys": len(stuck),
        "stuck, filed": len(stuck_filed), "stuck, not filed": len(stuck) - len(stuck_filed),
        "lost": len(lost), "rejected": len(rejected), "500s": errors_500,
        "503s": traffic.statuses.get(503, 0), "409s": traffic.statuses.get(409, 0),
        "drained in s": f"{drained_in:.1f}" if drained_in is not None else "never",
        "mails": f"{len(mails) - mails_missing}/{len(mails)} +{mail_replays}",
        "webhooks": f"{len(hooks) - hooks_missing}/{len(hooks)} +{hook_replays}",
        "map missing": map_missing, "staff missing": staff_missing,
        "tiles missing": tiles_missing, "tile reads": tiles.reads,
        "resyncs": f"{map_client.resyncs}/{staff_client.resyncs}",
        "reconnects": f"{map_client.reconnects}/{staff_client.reconnects}",
        "worker kept": "yes" if worker_alive else "NO",
        "per s": f"{len(acknowledged) / load_seconds:.1f}",
    }
    problems = []
    for name in ("duplicates", "stuck keys", "lost", "rejected", "500s", "map missing",
                 "staff missing", "tiles missing"):
        if values[name]:
            problems.append(f"{name}: {values[name]}")
    if drained_in is None or unsent:
        problems.append(f"outbox not drained within {plan.drain_within:.0f} s "
                        f"({unsent} unsent)")
    if mails_missing or hooks_missing:
        problems.append(f"not delivered: {mails_missing} mails, {hooks_missing} webhooks")
    if not acknowledged:
        problems.append("no report was filed at all")
    if not worker_alive:
        problems.append("the worker did not survive")
    if fault != "web-kill" and not web_same:
        problems.append("the web process was replaced")
    for f in (lost + stuck + rejected)[:5]:
        problems.append(f"  key {f.key}: acknowledged {f.acknowledged_id}, in the database "
                        f"{by_description.get(f.description)}, {f.attempts} attempts "
                        f"{f.rejected}")
    return Row(fault, values, problems)


# --- the run -------------------------------------------------------------------------------

COLUMNS = ("acknowledged", "duplicates", "stuck keys", "stuck, filed", "stuck, not filed",
           "lost", "500s", "503s", "409s", "drained in s", "mails", "webhooks", "map missing",
           "staff missing", "tiles missing", "tile reads", "resyncs", "reconnects",
           "worker kept", "per s")


def print_table(rows: list[Row], plan: Plan, short: bool) -> None:
    print(f"\nfault injection ({'short' if short else 'full'}: {plan.clients} API clients; "
          f"outbox stated to drain within {plan.drain_within:.0f} s of the fault's end)\n")
    print("| fault | " + " | ".join(COLUMNS) + " |")
    print("|---" * (len(COLUMNS) + 1) + "|")
    for row in rows:
        print(f"| {row.fault} | " + " | ".join(str(row.values[c]) for c in COLUMNS) + " |")
    print("\nmails / webhooks: delivered/expected +replays (a replay carries the same "
          "Message-ID or X-OS2geo-Delivery); resyncs and reconnects: map/staff socket")
    for row in rows:
        for problem in row.problems:
            print(f"PROBLEM {row.fault}: {problem}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--short", action="store_true", help="short outages (CI)")
    parser.add_argument("--only", default="", help=f"comma list of: {', '.join(FAULTS)}")
    parser.add_argument("--seed", type=int, default=11)
    args = parser.parse_args()
    plan = SHORT if args.short else FULL
    faults = [f for f in args.only.split(",") if f] or list(FAULTS)
    unknown = set(faults) - set(FAULTS)
    if unknown:
        parser.error(f"unknown faults: {', '.join(sorted(unknown))}")
    # SIGTERM (a timeout, Ctrl-C from a wrapper) still stops the cluster and the processes.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    cluster = PostgresCluster()
    workdir = Path(os.environ.get("FAULTS_LOG_DIR") or
                   f"/tmp/os2geo-faults-{time.strftime('%Y%m%d-%H%M%S')}")
    rows: list[Row] = []
    try:
        cluster.init()
        cluster.start()
        log(f"PostgreSQL cluster in {cluster.dir}; preparing the template database")
        prepare_os2geo_database(cluster, "faults_template", reports_per_municipality=4)
        for fault in faults:
            (workdir / fault).mkdir(parents=True, exist_ok=True)
            rows.append(run_fault(fault, cluster, "faults_template", plan, workdir,
                                  args.seed))
            log(f"{fault}: {'ok' if not rows[-1].problems else 'PROBLEMS'}")
    finally:
        print_table(rows, plan, args.short)
        log(f"process logs in {workdir}")
        if os.environ.get("FAULTS_KEEP") != "1":
            cluster.remove()
    return 1 if any(row.problems for row in rows) or len(rows) != len(faults) else 0


if __name__ == "__main__":
    sys.exit(main())
