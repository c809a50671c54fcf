from django.db import migrations, models


def forget_unfinished_keys(apps, schema_editor):
    # Claims of requests that never finished (the old three-transaction design): their
    # work either never happened or happened without a recorded answer; either way the
    # record says nothing a retry could replay.
    apps.get_model("reports", "IdempotencyRecord").objects.filter(completed=False).delete()


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0008_staff_triage"),
    ]

    operations = [
        migrations.RunPython(forget_unfinished_keys, migrations.RunPython.noop),
        migrations.RemoveField(model_name="idempotencyrecord", name="completed"),
        migrations.AlterField(
            model_name="idempotencyrecord", name="status_code",
            field=models.PositiveSmallIntegerField(),
        ),
    ]
