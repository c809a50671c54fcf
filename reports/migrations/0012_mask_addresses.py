from django.db import migrations


def mask_addresses(apps, schema_editor):
    """Addresses are now stored masked (reports.services.report_create); mask the ones filed
    before. Only addresses with a run of six digits can hold an identity number."""
    from reports.privacy import mask_identity_numbers

    Report = apps.get_model("reports", "Report")
    for report in Report.objects.filter(address__regex=r"[0-9]{6}").only("id", "address"):
        masked = mask_identity_numbers(report.address)
        if masked != report.address:
            Report.objects.filter(pk=report.pk).update(address=masked)


class Migration(migrations.Migration):

    dependencies = [("reports", "0011_public_state")]

    operations = [migrations.RunPython(mask_addresses, migrations.RunPython.noop)]
