from django.core.management.base import BaseCommand

from reports.integration import syncing
from reports.models import Destination


class Command(BaseCommand):
    help = ("Read status back from the Open311 destinations once (the notification worker "
            "does this every DESTINATION_POLL_SECONDS) and print what each run did.")

    def add_arguments(self, parser):
        parser.add_argument("--destination", type=int, help="Only this destination (id).")

    def handle(self, *args, **options):
        destinations = Destination.objects.filter(active=True).exclude(
            poll=Destination.Poll.NONE)
        if options["destination"]:
            destinations = destinations.filter(pk=options["destination"])
        for destination in destinations:
            run = syncing.destination_sync(destination)
            self.stdout.write(run.line() if run else f"{destination}: another process is "
                                                      "polling it now")
