import signal
import time

from django.core.management.base import BaseCommand

from reports.notify_worker import run_once


class Command(BaseCommand):
    help = "Deliver queued mails and webhooks (run one or more beside the web processes)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due, then stop.")
        parser.add_argument("--interval", type=float, default=2.0,
                            help="Seconds between polls when idle.")

    def handle(self, *args, **options):
        stopping = []
        signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
        while True:
            delivered, failed = run_once()
            if delivered or failed:
                self.stdout.write(f"delivered {delivered}, failed {failed}")
            if options["once"] or stopping:
                return
            time.sleep(options["interval"])
