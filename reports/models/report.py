"""Reports, their timeline and photos."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxLengthValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.lifecycle import Status
from reports.models.organisation import Department, Municipality
from reports.models.subjects import Category

DESCRIPTION_MAX_LENGTH = 4000


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Report(models.Model):
    class Source(models.TextChoices):
        """The channel a report came in by (counted in the statistics)."""

        WEB = "web", _("Web form")
        API = "api", _("App (REST API)")
        OPEN311 = "open311", _("Open311 client")
        PHONE = "phone", _("Phone")
        COUNTER = "counter", _("Counter")
        EMAIL = "email", _("E-mail")
        STAFF = "staff", _("Staff")
        DEMO = "demo", _("Demo data")

    municipality = models.ForeignKey(Municipality, on_delete=models.PROTECT, related_name="+")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    department = models.ForeignKey(Department, on_delete=models.PROTECT, related_name="reports")
    location = models.PointField(srid=4326)  # GiST index
    address = models.CharField(max_length=300, blank=True)
    description = models.TextField(validators=[MaxLengthValidator(DESCRIPTION_MAX_LENGTH)])
    # The description as the public sees it (identity numbers masked, reports.privacy).
    public_description = models.TextField(blank=True)
    answers = models.JSONField(default=dict, blank=True,
                               help_text="Answers to the category's questions, by code.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SUBMITTED)
    needs_triage = models.BooleanField(
        default=False, help_text="No routing rule matched; sent to the default department."
    )
    routing_explanation = models.CharField(max_length=500, blank=True)
    # Not the municipality's to fix: forwarded to this body (its rule is in the routing
    # explanation); the department keeps the report on its list to follow it.
    responsible_body = models.ForeignKey("ResponsibleBody", null=True, blank=True,
                                         on_delete=models.PROTECT, related_name="reports")
    # The asset the report is about (the very street light); its label as the citizen saw
    # it. Assets are never deleted by an import, only marked removed.
    asset = models.ForeignKey("Asset", null=True, blank=True, on_delete=models.PROTECT,
                              related_name="reports", db_index=False)
    asset_label = models.CharField(max_length=200, blank=True, db_default="")
    # Reporter contact: staff only, never in public output.
    reporter_name = models.CharField(max_length=200, blank=True)
    reporter_email = models.EmailField(blank=True)
    reporter_phone = models.CharField(max_length=40, blank=True)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    api_client = models.ForeignKey("ApiClient", null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="reports")
    # Open311: a token for clients that poll before they know the id; and client references.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    device_id = models.CharField(max_length=100, blank=True)
    account_id = models.CharField(max_length=100, blank=True)
    media_url = models.URLField(max_length=500, blank=True,
                                help_text="A photo the client hosts itself (Open311 media_url).")
    duplicate_of = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="duplicates"
    )
    assigned_to = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    # Separate facts, each with its own when (and who); "public" is defined once from them
    # (`public` below, reports.visibility).
    # When the reporter confirmed the report by its mailed link; at filing when no
    # confirmation was asked for (Municipality.confirm_anonymous_reports). Empty: waiting.
    confirmed_at = models.DateTimeField(null=True, blank=True)
    # Hidden by staff (abusive or personal content): off the public map and APIs, kept for
    # staff. Hidden reports are never deleted as unconfirmed.
    hidden = models.BooleanField(default=False)
    hidden_reason = models.CharField(max_length=500, blank=True)
    hidden_at = models.DateTimeField(null=True, blank=True)
    hidden_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                  on_delete=models.SET_NULL, related_name="+")
    # Private (its category is private, or staff made it so): never public; the reporter
    # still gets their mails, with a private link.
    # Database defaults too: rows written by raw SQL (seeders, bulk loads) are not private.
    private = models.BooleanField(default=False, db_default=False)
    private_reason = models.CharField(max_length=500, blank=True, db_default="")
    private_at = models.DateTimeField(null=True, blank=True)
    private_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    # When the report first became public and was announced (reporter follow, department
    # mail, alerts, webhooks, report.created): exactly once, whichever way it got there.
    announced_at = models.DateTimeField(null=True, blank=True)
    # The one definition of "public", computed by PostgreSQL from the facts above and used
    # by every public query, tile, feed, socket and payload (raw SQL reads `r.public`).
    public = models.GeneratedField(
        # Django takes a Q as a boolean expression here; the stubs ask for an Expression.
        expression=models.Q(confirmed_at__isnull=False, hidden=False,  # type: ignore[arg-type]
                            private=False),
        output_field=models.BooleanField(), db_persist=True)
    priority = models.CharField(max_length=10, choices=Priority.choices,
                                default=Priority.NORMAL)
    expected_at = models.DateTimeField(
        null=True, blank=True, help_text="When handling is due (Open311 expected_datetime).")
    language = models.CharField(max_length=8, default="da",
                                help_text="The reporter's language, for mails.")
    # When the report last reached a closed state (empty while open): retention counts
    # from here (reports.models.retention.RetentionRule).
    closed_at = models.DateTimeField(null=True, blank=True)
    # When the retention rules or an erasure request removed the reporter's contact data,
    # and the photos (reports.services.retention).
    contact_removed_at = models.DateTimeField(null=True, blank=True)
    photos_removed_at = models.DateTimeField(null=True, blank=True)
    # Bumped by every service that changes the report; live clients and staff edits compare it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="report_status_id"),
            models.Index(fields=["municipality", "-id"], name="report_municipality_id"),
            # The staff queue's count (department x open statuses) from the index alone: a
            # municipality's ~60,000 open reports counted in 3 ms instead of 26 (10 M rows).
            models.Index(fields=["department", "status"], name="report_department_status"),
            # Reports on an asset (its open ones in the asset tiles; the staff page's year):
            # partial, as most reports name none.
            models.Index(fields=["asset", "status"], condition=models.Q(asset__isnull=False),
                         name="report_asset_status"),
            models.Index(fields=["created_at"], condition=models.Q(confirmed_at__isnull=True),
                         name="report_waiting_confirmation"),
            # The retention run: closed reports whose personal data is still there.
            models.Index(fields=["municipality", "status", "closed_at"],
                         condition=models.Q(closed_at__isnull=False),
                         name="report_closed_retention"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=Status.values), name="report_status_known"
            )
        ]

    def __str__(self) -> str:
        return f"Report #{self.pk} ({self.status})"


class ReportEvent(models.Model):
    """One row of a report's timeline. Rows are only ever added."""

    class Kind(models.TextChoices):
        CREATED = "created", _("Created")
        ROUTED = "routed", _("Routed")
        STATUS = "status", _("Status changed")
        PUBLIC_REPLY = "public_reply", _("Public reply")
        INTERNAL_NOTE = "internal_note", _("Internal note")
        REROUTED = "rerouted", _("Re-routed")
        ASSIGNED = "assigned", _("Assigned")
        PRIORITY = "priority", _("Priority or due date")
        CATEGORY = "category", _("Category changed")
        MOVED = "moved", _("Location moved")
        HIDDEN = "hidden", _("Hidden from the public")
        SHOWN = "shown", _("Shown to the public again")
        MERGED = "merged", _("Duplicate merged in")
        CONFIRMED = "confirmed", _("Confirmed by the reporter")
        PHOTO = "photo", _("Photo added")
        CITIZEN_UPDATE = "citizen_update", _("Update from the citizen")
        PRIVATE = "private", _("Made private")
        NOT_PRIVATE = "not_private", _("No longer private")
        QUESTION = "question", _("Question to the reporter")
        ANSWER = "answer", _("Answer from the reporter")
        HANDOVER = "handover", _("Handed to an external party")
        EXTERNAL_REPLY = "external_reply", _("Reply from an external party")
        REDACTED = "redacted", _("Part removed by staff")
        FOLLOW_UP = "follow_up", _("Answer to the follow-up")
        REOPEN_REQUEST = "reopen_request", _("Reopening asked for")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_label = models.CharField(
        max_length=200, blank=True, help_text="Shown publicly: a department or 'citizen'."
    )
    from_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    to_status = models.CharField(max_length=20, choices=Status.choices, blank=True)
    public_text = models.TextField(blank=True)
    internal_text = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["report", "created_at"], name="event_report_time")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on #{self.report_id}"


class Photo(models.Model):
    """A photo of a report: re-encoded, metadata stripped, with a thumbnail."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    image = models.CharField(max_length=300, help_text="Storage name of the full image.")
    thumbnail = models.CharField(max_length=300, help_text="Storage name of the thumbnail.")
    url = models.CharField(max_length=500)
    thumbnail_url = models.CharField(max_length=500)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    bytes = models.PositiveIntegerField()
    # False: for staff only (sent with a reporter's answer or by an external party); every
    # public output shows public photos only.
    public = models.BooleanField(default=True, db_default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "id"]
