import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# `published` meant both "the reporter confirmed it" and "staff did not hide it"; the facts
# are told apart here. A published report was confirmed and announced at filing. A hidden
# one was unpublished by the hiding, so whether it had been confirmed is not recorded: it
# counts as confirmed unless it is a web report of a municipality that asks for
# confirmation (then its reporter's link, while valid, still confirms it).
SPLIT = """
UPDATE reports_report SET confirmed_at = created_at, announced_at = created_at
WHERE published;
UPDATE reports_report r SET confirmed_at = r.created_at, announced_at = r.created_at
FROM reports_municipality m
WHERE r.municipality_id = m.id AND r.hidden AND NOT r.published
  AND NOT (r.source = 'web' AND m.confirm_anonymous_reports);
UPDATE reports_report r SET hidden_at = e.created_at, hidden_by_id = e.actor_id
FROM (SELECT DISTINCT ON (report_id) report_id, created_at, actor_id
      FROM reports_reportevent WHERE kind = 'hidden'
      ORDER BY report_id, created_at DESC, id DESC) e
WHERE r.id = e.report_id AND r.hidden;
SET CONSTRAINTS ALL IMMEDIATE;  -- the deferred hidden_by check now, before ALTER TABLE
"""
JOIN = "UPDATE reports_report SET published = public; SET CONSTRAINTS ALL IMMEDIATE;"


class Migration(migrations.Migration):

    dependencies = [
        ("reports", "0010_notification_delivery"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="report", name="report_unconfirmed"),
        migrations.AddField(model_name="report", name="announced_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="report", name="confirmed_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(model_name="report", name="hidden_at",
                            field=models.DateTimeField(blank=True, null=True)),
        migrations.AddField(
            model_name="report", name="hidden_by",
            field=models.ForeignKey(blank=True, null=True,
                                    on_delete=django.db.models.deletion.SET_NULL,
                                    related_name="+", to=settings.AUTH_USER_MODEL)),
        migrations.RunSQL(SPLIT, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="report", name="public",
            field=models.GeneratedField(
                db_persist=True,
                expression=models.Q(("confirmed_at__isnull", False), ("hidden", False)),
                output_field=models.BooleanField())),
        migrations.RunSQL(migrations.RunSQL.noop, JOIN),
        migrations.RemoveField(model_name="report", name="published"),
        migrations.AddIndex(
            model_name="report",
            index=models.Index(condition=models.Q(("confirmed_at__isnull", True)),
                               fields=["created_at"], name="report_waiting_confirmation")),
        migrations.AlterField(
            model_name="reportevent", name="kind",
            field=models.CharField(choices=[
                ("created", "Created"), ("routed", "Routed"), ("status", "Status changed"),
                ("public_reply", "Public reply"), ("internal_note", "Internal note"),
                ("rerouted", "Re-routed"), ("assigned", "Assigned"),
                ("priority", "Priority or due date"), ("category", "Category changed"),
                ("moved", "Location moved"), ("hidden", "Hidden from the public"),
                ("shown", "Shown to the public again"), ("merged", "Duplicate merged in"),
                ("confirmed", "Confirmed by the reporter"), ("photo", "Photo added")],
                max_length=20)),
    ]
