from django.core.management.base import BaseCommand, CommandError

from geoservice.lib.importing import ImportFailed
from geoservice.lib.progress import command_progress
from maps.importers.areas import import_areas
from maps.models import Area


class Command(BaseCommand):
    help = (
        "Import area polygons (GeoJSON, shapefile, GeoPackage, .gz) as one Area per code: "
        "dissolves parts, drops Z, reprojects to WGS84, repairs invalid polygons."
    )

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--kind", required=True, choices=Area.Kind.values)
        parser.add_argument("--code-field", required=True)
        parser.add_argument("--name-field", required=True)
        parser.add_argument("--parent", help="Code of the municipality area these lie in.")
        parser.add_argument("--srid", type=int, help="EPSG code when the file declares none.")
        parser.add_argument("--line-buffer", type=float, metavar="METRES",
                            help="Take lines too (a road's centre line), buffered into areas "
                                 "by this many metres.")
        parser.add_argument("--dry-run", action="store_true", help="Report, write nothing.")

    def handle(self, *args, **options):
        try:
            summary = import_areas(
                options["path"],
                kind=options["kind"],
                code_field=options["code_field"],
                name_field=options["name_field"],
                parent_code=options["parent"],
                srid=options["srid"],
                line_buffer_m=options["line_buffer"],
                dry_run=options["dry_run"],
                progress=command_progress(self, options["verbosity"]),
            )
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        for note in summary.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(self.style.SUCCESS(summary.line("Areas")))
