from django.core.management.base import BaseCommand, CommandError

from geoservice.lib.importing import ImportFailed
from geoservice.lib.progress import command_progress
from reports.importers.assets import import_assets


class Command(BaseCommand):
    help = ("Import one asset type's assets (street lights, bins, trees, …) from GeoJSON, "
            "GeoPackage, shapefile (.gz too) in any CRS, by their external id: added, moved, "
            "changed, removed. A dry run unless --apply.")

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--municipality", required=True, help="Kommunekode, e.g. 0151.")
        parser.add_argument("--type", required=True, dest="asset_type",
                            help="The asset type's code (set up in the admin).")
        parser.add_argument("--id-field", required=True, help="The field with the owner's id.")
        parser.add_argument("--label-field", help="The field to show (default: the id).")
        parser.add_argument("--srid", type=int, help="EPSG code when the file declares none.")
        parser.add_argument("--apply", action="store_true", help="Write the changes.")

    def handle(self, *args, **options):
        try:
            summary = import_assets(
                options["path"], municipality=options["municipality"],
                asset_type=options["asset_type"], id_field=options["id_field"],
                label_field=options["label_field"], srid=options["srid"],
                dry_run=not options["apply"],
                progress=command_progress(self, options["verbosity"]))
        except ImportFailed as exc:
            raise CommandError(str(exc)) from None
        for note in summary.notes:
            self.stdout.write(f"  {note}")
        self.stdout.write(self.style.SUCCESS(summary.line("Assets")))
