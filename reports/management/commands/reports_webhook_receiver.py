"""A small webhook receiver for development and integration tests of back-office systems:
checks each delivery's signature and appends it to a file (and prints it)."""

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from django.core.management.base import BaseCommand

from reports.notify import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify


class Command(BaseCommand):
    help = "Receive OS2geo webhooks on 127.0.0.1:PORT, verify signatures, log deliveries."

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8099)
        parser.add_argument("--secret", required=True)
        parser.add_argument("--log", default="var/webhooks.log")

    def handle(self, *args, **options):
        secret, log_path = options["secret"], Path(options["log"])
        log_path.parent.mkdir(parents=True, exist_ok=True)
        stdout = self.stdout

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                ok = verify(secret, self.headers.get(TIMESTAMP_HEADER, ""), body,
                            self.headers.get(SIGNATURE_HEADER, ""))
                self.send_response(200 if ok else 401)
                self.end_headers()
                try:
                    payload = json.loads(body)
                except ValueError:
                    payload = None
                line = {"signature_valid": ok, "event": (payload or {}).get("event"),
                        "report_id": (payload or {}).get("report_id"), "payload": payload}
                with log_path.open("a", encoding="utf-8") as log:
                    log.write(json.dumps(line, ensure_ascii=False) + "\n")
                stdout.write(f"webhook {line['event']} #{line['report_id']} "
                             f"signature {'valid' if ok else 'INVALID'}")

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", options["port"]), Handler)
        self.stdout.write(f"Receiving webhooks on http://127.0.0.1:{options['port']}/")
        server.serve_forever()
