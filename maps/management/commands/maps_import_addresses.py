from django.core.management.base import BaseCommand, CommandError

from geoservice.lib.importing import ImportFailed
from geoservice.lib.progress import command_progress
from maps.importers.addresses import import_addresses


class Command(BaseCommand):
    help = "Import DAWA address points from a CSV (or .csv.gz) file."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args, **options):
        try:
            summary = import_addresses(
                options["path"],
                dry_run=options["dry_run"],
                progress=command_progress(self, options["verbosity"]),
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        for note in summary.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(self.style.SUCCESS(summary.line("Addresses")))
