from django.core.management.base import BaseCommand, CommandError

from reports.api.keys import api_key_issue
from reports.models import ApiClient, Municipality


class Command(BaseCommand):
    help = "Issue an API key for a client (created if new). The key is printed once."

    def add_arguments(self, parser):
        parser.add_argument("client", help="Client name, e.g. 'Borgerapp'.")
        parser.add_argument("--municipality", help="Limit the client to one municipality code.")
        parser.add_argument("--label", default="", help="A note on the key.")

    def handle(self, *args, **options):
        municipality = None
        if options["municipality"]:
            municipality = Municipality.objects.filter(code=options["municipality"]).first()
            if municipality is None:
                raise CommandError(f"No municipality {options['municipality']!r}.")
        client, created = ApiClient.objects.get_or_create(
            name=options["client"], defaults={"municipality": municipality})
        key = api_key_issue(client=client, label=options["label"])
        self.stderr.write(f"{'Created' if created else 'Existing'} client {client.name}; "
                          "the key is shown once:")
        self.stdout.write(key)
