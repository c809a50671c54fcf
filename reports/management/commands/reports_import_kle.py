from django.core.management.base import BaseCommand, CommandError

from geoservice.lib.importing import ImportFailed
from geoservice.lib.progress import command_progress
from reports.importers.kle import import_kle


class Command(BaseCommand):
    help = "Import the KLE plan (KL's Emnesystematik) from the official XML (.xml or .xml.gz)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args, **options):
        try:
            summary = import_kle(
                options["path"], dry_run=options["dry_run"],
                progress=command_progress(self, options["verbosity"]),
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        for note in summary.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(self.style.SUCCESS(summary.line("KLE subjects")))
