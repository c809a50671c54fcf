import signal
import threading

from django.core.management.base import BaseCommand

from reports.notifications.worker import serve


class Command(BaseCommand):
    help = ("Deliver queued mails and webhooks (run one or more beside the web processes). "
            "Survives database, SMTP and receiver outages; SIGTERM stops it after the "
            "delivery in hand.")

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Deliver what is due, then stop.")
        parser.add_argument("--interval", type=float, default=2.0,
                            help="Seconds between polls when idle.")

    def handle(self, *args, **options):
        stop = threading.Event()

        def stopping(signum, frame):
            if not stop.is_set():
                self.stdout.write("stopping after the delivery in hand")
            stop.set()

        signal.signal(signal.SIGTERM, stopping)
        signal.signal(signal.SIGINT, stopping)
        def say(line: str) -> None:
            self.stdout.write(line)
            self.stdout.flush()

        serve(stop=stop, interval=options["interval"], once=options["once"], say=say)
        self.stdout.write("stopped")
