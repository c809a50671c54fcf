"""A small webhook receiver for development and integration tests of back-office systems:
checks each delivery's signature, drops replays by delivery id (what every receiver should
do: OS2geo delivers at least once), and appends each delivery to a file."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.core.management.base import BaseCommand

from reports.notifications.outbox import DELIVERY_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


def _seen_deliveries(log_path: Path) -> set[str]:
    seen = set()
    if log_path.exists():
        for line in log_path.read_text(encoding="utf-8").splitlines():
            try:
                seen.add(json.loads(line).get("delivery_id") or "")
            except ValueError:
                continue
    return seen - {""}


class Command(BaseCommand):
    help = "Receive OS2geo webhooks on 127.0.0.1:PORT, verify signatures, log deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8099)
        parser.add_argument("--secret", required=True)
        parser.add_argument("--log", default="var/webhooks.log")
        parser.add_argument("--quiet", action="store_true", help="Log to the file only.")

    def handle(self, *args, **options):
        secret, log_path = options["secret"], Path(options["log"])
        log_path.parent.mkdir(parents=True, exist_ok=True)
        seen, lock = _seen_deliveries(log_path), threading.Lock()
        stdout, quiet = self.stdout, options["quiet"]

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(secret, self.headers.get(TIMESTAMP_HEADER, ""), body,
                            self.headers.get(SIGNATURE_HEADER, ""))
                delivery = self.headers.get(DELIVERY_HEADER, "")
                with lock:
                    replay = bool(ok and delivery and delivery in seen)
                    if ok and delivery:
                        seen.add(delivery)
                # A replay is acknowledged (so the sender stops) and not processed again.
                self.send_response(200 if ok else 401)
                self.end_headers()
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                line = {"signature_valid": ok, "delivery_id": delivery, "replay": replay,
                        "event": (payload or {}).get("event"),
                        "report_id": (payload or {}).get("report_id"), "payload": payload}
                with lock, log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(line, ensure_ascii=False) + "\n")
                if not quiet:
                    stdout.write(f"webhook {line['event']} #{line['report_id']} "
                                 f"signature {'valid' if ok else 'INVALID'}"
                                 f"{' (replay, dropped)' if replay else ''}")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", options["port"]), Handler)
        if not quiet:
            self.stdout.write(f"Receiving webhooks on http://127.0.0.1:{options['port']}/")
        server.serve_forever()
