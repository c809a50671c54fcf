"""Personal data over time: staff redactions (kept for staff a while, then purged), the
municipality's retention rules for reporters' contact data and photos, and the deletion log
that says what was removed, when and by which rule (reports.services.retention)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.lifecycle import Status
from reports.models.organisation import Municipality
from reports.models.report import Photo, Report, ReportEvent

# What the public sees where staff removed something.
REMOVED = "[fjernet]"


class Redaction(models.Model):
    """Staff removed part of a citizen's text, or a whole photo, from a report, with a
    reason the public sees. The removed passage is kept here for staff until `keep_until`;
    then the worker purges it (`purged_at`), and no table holds it any more."""

    class Target(models.TextChoices):
        DESCRIPTION = "description", _("Description")
        UPDATE = "update", _("Update from the citizen")
        ANSWER = "answer", _("Answer to a question")
        PHOTO = "photo", _("Photo")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="redactions")
    target = models.CharField(max_length=12, choices=Target.choices)
    event = models.ForeignKey(ReportEvent, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+", help_text="The citizen's update, if that.")
    photo = models.ForeignKey(Photo, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    reason = models.CharField(max_length=300, help_text="Shown to the public and the reporter.")
    # The removed passage, for staff only, until it is purged ("" for a photo: its files
    # are the kept original).
    original = models.TextField(blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    keep_until = models.DateTimeField()
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["keep_until"], condition=models.Q(purged_at__isnull=True),
                                name="redaction_to_purge")]

    def __str__(self) -> str:
        return f"{self.get_target_display()} redacted on #{self.report_id}"


class RetentionRule(models.Model):
    """How long a municipality keeps a reporter's contact data and the photos of a report
    after it reached a final state; empty: kept. The rest of the report (place, category,
    status, times, masked public text) stays for the statistics and the archive."""

    FINAL = [(s.value, s.label) for s in (Status.RESOLVED, Status.REJECTED, Status.DUPLICATE,
                                          Status.REFERRED)]

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="retention_rules")
    status = models.CharField(max_length=20, choices=FINAL)
    contact_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after the final state until the reporter's "
                                         "contact data, followers and mails are removed.")
    photo_days = models.PositiveIntegerField(
        null=True, blank=True, help_text="Days after the final state until the photos are "
                                         "deleted.")

    class Meta:
        ordering = ["municipality", "status"]
        constraints = [models.UniqueConstraint(fields=["municipality", "status"],
                                               name="retention_rule_once")]

    def __str__(self) -> str:
        return f"{self.municipality}: {self.status}"

    def describe(self, what: str) -> str:
        days = self.contact_days if what == "contact" else self.photo_days
        return f"{self.municipality.name}: {what} of {self.status} reports after {days} days"


class DeletionLog(models.Model):
    """One removal of personal data: what kinds of data (never the data itself), from which
    report, when, and by which rule or request."""

    class Reason(models.TextChoices):
        RETENTION = "retention", _("Retention rule")
        ERASURE = "erasure", _("Erasure on request")
        REDACTION = "redaction", _("Redaction purged")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    reason = models.CharField(max_length=10, choices=Reason.choices)
    rule = models.CharField(max_length=300, help_text="The rule or request, in words.")
    # The report's id is kept as a number: the log outlives what it describes.
    report_id = models.PositiveIntegerField(null=True, blank=True, db_index=True)
    municipality = models.ForeignKey(Municipality, null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")
    # For an erasure request: a SHA-256 of the normalised address or number, so that the
    # log can answer "was x erased?" without holding x.
    subject_hash = models.CharField(max_length=64, blank=True, db_index=True)
    removed = models.JSONField(default=dict, help_text="What was removed, by kind: counts.")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.get_reason_display()} {self.at:%Y-%m-%d}: #{self.report_id}"
