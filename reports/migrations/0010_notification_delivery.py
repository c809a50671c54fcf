import uuid

import django.contrib.postgres.functions
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0009_idempotency_in_one_transaction"),
    ]

    operations = [
        migrations.AddField(
            model_name="notification", name="claimed_by",
            field=models.CharField(blank=True, default="", max_length=32,
                                   help_text="The worker that holds the lease."),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="notification", name="delivery_id",
            field=models.UUIDField(db_default=django.contrib.postgres.functions.RandomUUID(),
                                   default=uuid.uuid4, editable=False, unique=True),
        ),
    ]
