from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking the reports table against writes (CREATE INDEX CONCURRENTLY).
    atomic = False

    dependencies = [
        ("reports", "0024_assets"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(condition=models.Q(asset__isnull=False),
                               fields=["asset", "status"], name="report_asset_status"),
        ),
    ]
