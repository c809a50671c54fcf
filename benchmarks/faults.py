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
can drop it), the map and staff sockets know every report, no request got a 500, and the
worker and web processes that were not killed are the same processes as before. It prints
one table, one row per fault, and exits non-zero if any row breaks a promise.
"""

from __future__ import annotations

import argparse
import contextlib
import email
import http.client
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.servers import (  # noqa: E402
    PostgresCluster,
    RedisProcess,
    free_port,
    prepare_os2geo_database,
    service_env,
    wait_for_port,
)

# Reports are filed around Ballerup's town centre (inside the municipality); the map socket
# watches this box.
CENTRE = (12.3633, 55.7300)
BBOX = (12.34, 55.71, 12.39, 55.75)
STAFF_USER = "ballerup.vej"
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


# --- receivers that can refuse -------------------------------------------------------------

class SmtpSink:
    """An SMTP server (aiosmtpd) that records each mail's Message-ID, or answers 451."""

    def __init__(self) -> None:
        from aiosmtpd.controller import Controller

        self.refusing = False
        self.message_ids: list[str] = []
        self.lock = threading.Lock()
        sink = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                if sink.refusing:
                    return "451 4.3.0 Try again later"
                message = email.message_from_bytes(envelope.content)
                with sink.lock:
                    sink.message_ids.append(message.get("Message-ID", ""))
                return "250 OK"

        self.port = free_port()
        self.controller = Controller(Handler(), hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def close(self) -> None:
        self.controller.stop()


class WebhookSink:
    """A webhook receiver that records each delivery id, or answers 503."""

    def __init__(self) -> None:
        self.refusing = False
        self.delivery_ids: list[str] = []
        self.lock = threading.Lock()
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                if sink.refusing:
                    self.send_response(503)
                else:
                    with sink.lock:
                        sink.delivery_ids.append(self.headers.get("X-OS2geo-Delivery", ""))
                    self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.port = free_port()
        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hook"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# --- the installation under test ------------------------------------------------------------

SETUP = """
import json
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.auth import SESSION_KEY, BACKEND_SESSION_KEY, HASH_SESSION_KEY
from reports.api.keys import api_key_issue
from reports.models import ApiClient, Municipality, Notification, Webhook
from reports.selectors import staff_department_ids

ballerup = Municipality.objects.get(code="0151")
Webhook.objects.filter(municipality=ballerup).update(url={hook!r}, active=True)
Notification.objects.all().delete()  # the demo's own mails are not this run's
keys = [api_key_issue(client=ApiClient.objects.create(
    name=f"Fault client {{i}}", municipality=ballerup, rate_limit_per_minute=100000))
    for i in range({clients})]
user = get_user_model().objects.get(username={user!r})
session = SessionStore()
session[SESSION_KEY] = str(user.pk)
session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
session[HASH_SESSION_KEY] = user.get_session_auth_hash()
session.create()
print(json.dumps({{"keys": keys, "session": session.session_key,
                  "departments": staff_department_ids(user)}}))
"""


class Installation:
    """One fresh database (from the template) and fresh processes for one fault."""

    def __init__(self, cluster: PostgresCluster, template: str, name: str, plan: Plan,
                 workdir: Path) -> None:
        self.cluster, self.plan, self.workdir = cluster, plan, workdir
        self.database = name
        self.url = cluster.create_database(name, template=template)
        self.redis = RedisProcess()
        self.redis.start()
        self.smtp = SmtpSink()
        self.hooks = WebhookSink()
        self.port = free_port()
        self.env = service_env(
            DATABASE_URL=self.url, REDIS_URL=self.redis.url, DEBUG="0",
            SECRET_KEY="fault-injection", ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING", DATABASE_POOL_MAX_SIZE="10", EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp.port), EMAIL_USE_TLS="0", EMAIL_TIMEOUT="5",
            NOTIFY_BACKOFF_SECONDS="1", NOTIFY_MAX_BACKOFF_SECONDS="4",
            NOTIFY_MAX_ATTEMPTS="10000", NOTIFY_LEASE_SECONDS="15",
            WEBHOOK_TIMEOUT_SECONDS="5", WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",
            DJANGO_SETTINGS_MODULE="geoservice.settings")
        found = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + SETUP.format(
                hook=self.hooks.url, clients=plan.clients, user=STAFF_USER)],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120, check=True)
        setup = json.loads(found.stdout.strip().splitlines()[-1])
        self.api_keys: list[str] = setup["keys"]
        self.session: str = setup["session"]
        self.departments: list[int] = setup["departments"]
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.start_web()
        self.start_worker()

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen:
        out = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=out, stderr=out)

    def start_web(self) -> None:
        self.web = self._spawn("web", [sys.executable, "-m", "geoservice.serve", "-b",
                                       "127.0.0.1", "-p", str(self.port),
                                       "geoservice.asgi:application"])
        wait_for_port(self.port, self.web, timeout=60)

    def start_worker(self) -> None:
        self.worker = self._spawn("worker", [sys.executable, "manage.py",
                                             "reports_notify_worker", "--interval", "0.5"])

    def kill_web(self) -> None:
        self.web.send_signal(signal.SIGKILL)
        self.web.wait()

    def sql(self, query: str, params: list | None = None) -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url, connect_timeout=5) as conn:
            return conn.execute(query, params or []).fetchall()

    def close(self) -> None:
        for process in (self.web, self.worker):
            if process and process.poll() is None:
                process.terminate()
                try:
                    process.wait(20)
                except subprocess.TimeoutExpired:
                    process.kill()
        self.redis.stop()
        self.smtp.close()
        self.hooks.close()
        with contextlib.suppress(Exception):
            import psycopg

            with psycopg.connect(self.cluster.url(), autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')


# --- retrying API clients --------------------------------------------------------------------

@dataclass
class Filing:
    key: str
    description: str
    acknowledged_id: int | None = None
    attempts: int = 0
    rejected: str = ""


@dataclass
class Traffic:
    filings: list[Filing] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    network_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def count(self, status: int) -> None:
        with self.lock:
            self.statuses[status] = self.statuses.get(status, 0) + 1


def api_client(port: int, api_key: str, stop_new: threading.Event, traffic: Traffic,
               retry_window: float, rng: random.Random) -> None:
    """File reports one after another until `stop_new`; each is retried with its key until
    it is acknowledged or `retry_window` seconds have passed."""
    conn: http.client.HTTPConnection | None = None
    while not stop_new.is_set():
        key = str(uuid.uuid4())
        filing = Filing(key=key, description=f"fault {key}")
        with traffic.lock:
            traffic.filings.append(filing)
        body = json.dumps({
            "location": {"type": "Point", "coordinates": [
                CENTRE[0] + rng.uniform(-0.015, 0.015), CENTRE[1] + rng.uniform(-0.01, 0.01)]},
            "category": "pothole", "description": filing.description,
            "reporter": {"name": "Fejl Test", "email": f"{key[:8]}@example.dk"}})
        headers = {"Content-Type": "application/json", "Idempotency-Key": key,
                   "Authorization": f"Api-Key {api_key}"}
        give_up = time.monotonic() + retry_window
        pause = 0.2
        while time.monotonic() < give_up:
            filing.attempts += 1
            try:
                if conn is None:
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
                conn.request("POST", "/api/v1/reports/", body, headers)
                response = conn.getresponse()
                content = response.read()
            except (OSError, http.client.HTTPException):
                traffic.network_errors += 1
                if conn is not None:
                    conn.close()
                conn = None
                time.sleep(pause)
                pause = min(pause * 2, 2.0)
                continue
            traffic.count(response.status)
            if response.status == 201:
                filing.acknowledged_id = json.loads(content)["id"]
                break
            if response.status in (409, 429) or response.status >= 500:
                retry_after = response.getheader("Retry-After")
                wait = min(float(retry_after), 2.0) if retry_after else pause
                time.sleep(wait)
                pause = min(pause * 2, 2.0)
                continue
            filing.rejected = f"{response.status} {content[:200]!r}"
            break


# --- live clients that catch up ---------------------------------------------------------------

class LiveClient:
    """A websocket client that follows docs/live.md: it keeps the newest `updated_at` it
    has seen, and after a reconnect or a `resync` frame fetches what changed since (minus a
    margin) from the HTTP API. `seen` is every report id it learnt of, either way."""

    MARGIN_SECONDS = 10

    def __init__(self, installation: Installation, kind: str) -> None:
        self.installation, self.kind = installation, kind
        self.seen: set[int] = set()
        self.live_events = 0
        self.caught_up = 0
        self.resyncs = 0
        self.reconnects = 0
        self.watermark = time.time() - self.MARGIN_SECONDS
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def headers(self) -> dict[str, str]:
        port = self.installation.port
        headers = {"Origin": f"http://127.0.0.1:{port}"}
        if self.kind == "staff":
            headers["Cookie"] = f"sessionid={self.installation.session}"
        return headers

    def _run(self) -> None:
        from websockets.exceptions import WebSocketException
        from websockets.sync.client import connect

        path = "/ws/map/" if self.kind == "map" else "/ws/staff/"
        connected_before = False
        pause = 0.2
        while not self.stop.is_set():
            try:
                with connect(f"ws://127.0.0.1:{self.installation.port}{path}",
                             additional_headers=self.headers, open_timeout=5,
                             close_timeout=1) as socket:
                    if self.kind == "map":
                        socket.send(json.dumps({"type": "subscribe", "bbox": list(BBOX)}))
                    first = json.loads(socket.recv(timeout=10))
                    if first.get("type") != "subscribed":
                        raise WebSocketException(f"not subscribed: {first}")
                    if connected_before:
                        self.reconnects += 1
                        self._catch_up(self.watermark - self.MARGIN_SECONDS)
                    connected_before, pause = True, 0.2
                    while not self.stop.is_set():
                        try:
                            frame = json.loads(socket.recv(timeout=0.5))
                        except TimeoutError:
                            continue
                        self._frame(frame)
            except (OSError, TimeoutError, WebSocketException, ValueError):
                time.sleep(pause)
                pause = min(pause * 2, 2.0)

    def _frame(self, frame: dict) -> None:
        if frame.get("type") == "resync":
            self.resyncs += 1
            since = min(self.watermark, _epoch(frame["since"])) - self.MARGIN_SECONDS
            self._catch_up(since)
        elif "report_id" in frame:
            self.seen.add(frame["report_id"])
            self.live_events += 1
            updated = ((frame.get("feature") or {}).get("properties") or {}).get("updated_at")
            if updated:
                self.watermark = max(self.watermark, _epoch(updated))

    def _catch_up(self, since: float) -> None:
        """Fetch everything changed since `since`, retrying until the server answers."""
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(since))
        if self.kind == "map":
            path = "/api/v1/reports/?" + urllib.parse.urlencode(
                {"bbox": ",".join(map(str, BBOX)), "updated_after": stamp, "limit": 1000})
        else:
            path = "/staff/changes?" + urllib.parse.urlencode({"updated_after": stamp})
        started = 0.0
        while not self.stop.is_set() and path:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.installation.port,
                                                  timeout=15)
                conn.request("GET", path, headers=self.headers)
                response = conn.getresponse()
                data = json.loads(response.read()) if response.status == 200 else None
                conn.close()
            except (OSError, http.client.HTTPException, ValueError):
                data = None
            if data is None:
                time.sleep(0.5)
                continue
            if self.kind == "map":
                ids = [f["id"] for f in data["features"]]
                for feature in data["features"]:
                    self.watermark = max(self.watermark,
                                         _epoch(feature["properties"]["updated_at"]))
                nxt = data.get("next")
                path = urllib.parse.urlsplit(nxt)._replace(scheme="", netloc="").geturl() \
                    if nxt else ""
            else:
                ids = [r["id"] for r in data["reports"]]
                started = started or _epoch(data["now"])
                path = data.get("next") or ""
                if not path:
                    self.watermark = max(self.watermark, started)
            self.seen.update(ids)
            self.caught_up += len(ids)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(10)


def _epoch(iso: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


# --- one fault -----------------------------------------------------------------------------

@dataclass
class Row:
    fault: str
    values: dict[str, object]
    problems: list[str]


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
        installation.smtp.refusing = True
        log("SMTP refusing")
        time.sleep(plan.outage)
        installation.smtp.refusing = False
        log("SMTP accepting again")
    elif fault == "webhook-refusing":
        installation.hooks.refusing = True
        log("webhook receiver refusing")
        time.sleep(plan.outage)
        installation.hooks.refusing = False
        log("webhook receiver accepting again")


def run_fault(fault: str, cluster: PostgresCluster, template: str, plan: Plan,
              workdir: Path, seed: int) -> Row:
    log(f"--- {fault}")
    installation = Installation(cluster, template, f"faults_{fault.replace('-', '_')}", plan,
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
    return audit(fault, installation, traffic, live, plan, drained_in, load_seconds,
                 worker_pid, web_pid)


def audit(fault: str, installation: Installation, traffic: Traffic, live: list[LiveClient],
          plan: Plan, drained_in: float | None, load_seconds: float, worker_pid: int,
          web_pid: int) -> Row:
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
        "resyncs": f"{map_client.resyncs}/{staff_client.resyncs}",
        "reconnects": f"{map_client.reconnects}/{staff_client.reconnects}",
        "worker kept": "yes" if worker_alive else "NO",
        "per s": f"{len(acknowledged) / load_seconds:.1f}",
    }
    problems = []
    for name in ("duplicates", "stuck keys", "lost", "rejected", "500s", "map missing",
                 "staff missing"):
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
           "staff missing", "resyncs", "reconnects", "worker kept", "per s")


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
