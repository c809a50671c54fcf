from django.contrib.postgres.operations import AddIndexConcurrently
from django.db import migrations, models


class Migration(migrations.Migration):
    # Built without locking the reports table against writes (CREATE INDEX CONCURRENTLY).
    atomic = False

    dependencies = [
        ("reports", "0013_notification_rendered_by_worker"),
    ]

    operations = [
        AddIndexConcurrently(
            model_name="report",
            index=models.Index(fields=["department", "status"], name="report_department_status"),
        ),
    ]
