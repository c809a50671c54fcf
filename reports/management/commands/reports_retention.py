from django.core.management.base import BaseCommand

from reports.services.moderation import redactions_purge
from reports.services.retention import retention_run


class Command(BaseCommand):
    help = ("Apply the municipalities' retention rules now (the notification worker does it "
            "in its housekeeping, in batches) and purge redactions past their keeping time. "
            "A dry run by default: it says what it would remove; --apply removes it.")

    def add_arguments(self, parser):
        parser.add_argument("--apply", action="store_true", help="Remove, not only count.")

    def handle(self, *args, **options):
        run = retention_run(dry_run=not options["apply"])
        lines = run.lines() or ["nothing is due"]
        if options["apply"]:
            lines.append(f"purged {redactions_purge(limit=1_000_000)} redactions")
        else:
            lines.append("dry run: nothing was changed (--apply removes it)")
        for line in lines:
            self.stdout.write(line)
