from django.core.management.base import BaseCommand

from reports.importers.demo import demo_loaded, load_demo


class Command(BaseCommand):
    help = "Load the demo data (real KLE plan, boundaries, addresses; sample reports) once."

    def add_arguments(self, parser):
        parser.add_argument("--reports", type=int, default=150,
                            help="Reports per municipality (default 150).")
        parser.add_argument("--force", action="store_true",
                            help="Load again even if demo reports exist (adds more reports).")

    def handle(self, *args, **options):
        if demo_loaded() and not options["force"]:
            self.stdout.write("Demo data is already loaded (use --force to add another set).")
            return
        load_demo(reports_per_municipality=options["reports"],
                  log=lambda line: self.stdout.write(f"  {line}"))
        self.stdout.write(self.style.SUCCESS("Demo data loaded."))
