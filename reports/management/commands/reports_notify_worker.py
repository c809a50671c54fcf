import signal
import time

from django.core.management.base import BaseCommand

from reports.notify_worker import run_once
from reports.services import alerts_send_digests, reports_expire_unconfirmed

HOUSEKEEPING_SECONDS = 60


class Command(BaseCommand):
    help = "Deliver queued mails and webhooks (run one or more beside the web processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due, then stop.")
        parser.add_argument("--interval", type=float, default=2.0,
                            help="Seconds between polls when idle.")

    def handle(self, *args, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        housekeeping_at = 0.0
        while True:
            if time.monotonic() >= housekeeping_at:
                expired = reports_expire_unconfirmed()
                if expired:
                    self.stdout.write(f"deleted {expired} unconfirmed reports")
                digests = alerts_send_digests()
                if digests:
                    self.stdout.write(f"queued {digests} daily digests")
                housekeeping_at = time.monotonic() + HOUSEKEEPING_SECONDS
            delivered, failed = run_once()
            if delivered or failed:
                self.stdout.write(f"delivered {delivered}, failed {failed}")
            if options["once"] or stopping:
                return
            time.sleep(options["interval"])
