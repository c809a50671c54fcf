"""The pieces benchmarks/faults.py runs: receivers that can refuse (SMTP, webhooks), an
installation of its own on a PostgreSQL cluster of its own, API clients that retry with
their Idempotency-Keys, and websocket clients that catch up as docs/live.md says."""

from __future__ import annotations

import contextlib
import email
import http.client
import json
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
    service_env,
    wait_for_port,
)

# Reports are filed around Ballerup's town centre (inside the municipality); the map socket
# watches this box.
CENTRE = (12.3633, 55.7300)
BBOX = (12.34, 55.71, 12.39, 55.75)
STAFF_USER = "ballerup.vej"


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

    def __init__(self, cluster: PostgresCluster, template: str, name: str, clients: int,
                 workdir: Path) -> None:
        self.cluster, self.workdir = cluster, workdir
        self.database = name
        self.url = cluster.create_database(name, template=template)
        self.redis = RedisProcess()
        self.redis.start()
        self.smtp = SmtpSink()
        self.hooks = WebhookSink()
        self.port = free_port()
        self.env = service_env(
            DATABASE_URL=self.url, REDIS_URL=self.redis.url, DEBUG="0",
            CACHE_URL=self.redis.url.rsplit("/", 1)[0] + "/1",  # as script/server: tile cache
            SECRET_KEY="fault-injection", ALLOWED_HOSTS="127.0.0.1,localhost",
            LOG_LEVEL="WARNING", DATABASE_POOL_MAX_SIZE="10", EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=str(self.smtp.port), EMAIL_USE_TLS="0", EMAIL_TIMEOUT="5",
            NOTIFY_BACKOFF_SECONDS="1", NOTIFY_MAX_BACKOFF_SECONDS="4",
            NOTIFY_MAX_ATTEMPTS="10000", NOTIFY_LEASE_SECONDS="15",
            WEBHOOK_TIMEOUT_SECONDS="5", WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",
            DJANGO_SETTINGS_MODULE="geoservice.settings")
        found = subprocess.run(
            [sys.executable, "-c", "import django; django.setup()\n" + SETUP.format(
                hook=self.hooks.url, clients=clients, user=STAFF_USER)],
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


