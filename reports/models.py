"""Municipalities, departments, the KLE plan, categories, routing rules, reports, timelines."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.functions import RandomUUID
from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, RegexValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.lifecycle import Status

DESCRIPTION_MAX_LENGTH = 4000
KLE_PREFIX_VALIDATOR = RegexValidator(
    r"^(\d{2}(\.\d{2}){0,2})?$",
    "A KLE prefix is empty (all subjects), NN, NN.NN or NN.NN.NN.",
)


class Municipality(models.Model):
    """A municipality this installation serves. Its boundary is an imported Area."""

    code = models.CharField(max_length=4, unique=True, help_text="Kommunekode, e.g. 0151.")
    name = models.CharField(max_length=100)
    area = models.OneToOneField("maps.Area", on_delete=models.PROTECT, related_name="+")
    default_department = models.ForeignKey(
        "Department", null=True, blank=True, on_delete=models.SET_NULL, related_name="+",
        help_text="Receives reports that no routing rule matches; they are flagged for triage.",
    )
    active = models.BooleanField(default=True, help_text="Accepts new reports.")
    confirm_anonymous_reports = models.BooleanField(
        default=False, help_text="Reports from the public web page (no API key) wait, "
                                 "unpublished, until the reporter confirms them by mail.")

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "municipalities"

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"

    def clean(self) -> None:
        """A served municipality's boundary is a municipality area that overlaps no other
        served municipality's: the boundary decides who receives which reports."""
        from maps.models import Area
        from maps.selectors import overlap_m2

        if not self.area_id:
            return
        if self.area.kind != Area.Kind.MUNICIPALITY:
            raise ValidationError({"area": "Choose a municipality boundary, not a "
                                           f"{self.area.get_kind_display().lower()}."})
        others = list(Municipality.objects.exclude(pk=self.pk).values_list("area_id",
                                                                           flat=True))
        clash = overlap_m2(self.area, others)
        if clash:
            names = ", ".join(Municipality.objects.filter(area_id__in=clash)
                              .values_list("name", flat=True))
            raise ValidationError({"area": f"This boundary overlaps {names}."})


class Department(models.Model):
    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="departments"
    )
    name = models.CharField(max_length=200)
    email = models.EmailField(blank=True)

    class Meta:
        ordering = ["municipality__name", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "name"], name="department_unique_name"
            )
        ]

    def __str__(self) -> str:
        return self.name


class KleSubject(models.Model):
    """One node of KL's Emnesystematik: hovedgruppe (NN), gruppe (NN.NN) or emne (NN.NN.NN)."""

    class Level(models.TextChoices):
        MAIN_GROUP = "hovedgruppe", "Hovedgruppe"
        GROUP = "gruppe", "Gruppe"
        SUBJECT = "emne", "Emne"

    number = models.CharField(max_length=8, unique=True)
    title = models.CharField(max_length=300)
    level = models.CharField(max_length=12, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.CASCADE, related_name="children"
    )
    retired = models.BooleanField(default=False)
    retired_on = models.DateField(null=True, blank=True)
    replaced_by = models.CharField(
        max_length=8, blank=True, help_text="Number that took over when the subject moved."
    )
    created_on = models.DateField(null=True, blank=True)
    changed_on = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["number"]
        verbose_name = "KLE subject"
        indexes = [
            models.Index(fields=["number"], name="kle_number_prefix",
                         opclasses=["varchar_pattern_ops"]),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Category(models.Model):
    """What a citizen can report in one municipality; `code` is the Open311 service_code."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="categories"
    )
    code = models.SlugField(max_length=64)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kle = models.ForeignKey(
        KleSubject, on_delete=models.PROTECT, related_name="categories",
        limit_choices_to={"level": KleSubject.Level.SUBJECT},
    )
    group = models.CharField(max_length=100, blank=True)
    active = models.BooleanField(default=True)
    anonymous_allowed = models.BooleanField(default=True)
    expected_handling_hours = models.PositiveIntegerField(
        default=120, help_text="How long handling is expected to take; a report's due time "
                               "(expected_datetime) is its creation plus this.")

    class Meta:
        ordering = ["municipality__name", "group", "name"]
        verbose_name_plural = "categories"
        constraints = [
            models.UniqueConstraint(
                fields=["municipality", "code"], name="category_unique_code"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.municipality.code})"


class RoutingRule(models.Model):
    """Reports of `municipality` whose KLE number starts with `kle_prefix` (and that lie in
    `area`, when set) go to `department`. The most specific matching rule wins (see
    reports.routing)."""

    municipality = models.ForeignKey(
        Municipality, on_delete=models.CASCADE, related_name="routing_rules"
    )
    kle_prefix = models.CharField(max_length=8, blank=True, validators=[KLE_PREFIX_VALIDATOR])
    area = models.ForeignKey(
        "maps.Area", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    department = models.ForeignKey(Department, on_delete=models.CASCADE, related_name="rules")
    priority = models.IntegerField(default=0, help_text="Higher wins among equally specific rules.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["municipality__name", "kle_prefix", "-priority", "id"]

    def __str__(self) -> str:
        where = f" in {self.area.name}" if self.area_id else ""
        return f"#{self.pk} {self.kle_prefix or '*'}{where} → {self.department.name}"

    def clean(self) -> None:
        _same_municipality(self)


def _same_municipality(row) -> None:
    """A row's department belongs to the row's municipality (a rule or a webhook pointing
    at another municipality's department would hand it this municipality's reports)."""
    if row.department_id and row.municipality_id and \
            row.department.municipality_id != row.municipality_id:
        raise ValidationError({"department": "Choose a department of the same municipality."})


class Priority(models.TextChoices):
    LOW = "low", _("Low")
    NORMAL = "normal", _("Normal")
    HIGH = "high", _("High")
    URGENT = "urgent", _("Urgent")


class Report(models.Model):
    class Source(models.TextChoices):
        WEB = "web", "Web"
        API = "api", "REST API"
        OPEN311 = "open311", "Open311"
        STAFF = "staff", "Staff"
        DEMO = "demo", "Demo data"

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
    # When the report first became public and was announced (reporter follow, department
    # mail, alerts, webhooks, report.created): exactly once, whichever way it got there.
    announced_at = models.DateTimeField(null=True, blank=True)
    # The one definition of "public", computed by PostgreSQL from the facts above and used
    # by every public query, tile, feed, socket and payload (raw SQL reads `r.public`).
    public = models.GeneratedField(
        expression=models.Q(confirmed_at__isnull=False, hidden=False),
        output_field=models.BooleanField(), db_persist=True)
    priority = models.CharField(max_length=10, choices=Priority.choices,
                                default=Priority.NORMAL)
    expected_at = models.DateTimeField(
        null=True, blank=True, help_text="When handling is due (Open311 expected_datetime).")
    language = models.CharField(max_length=8, default="da",
                                help_text="The reporter's language, for mails.")
    # Bumped by every service that changes the report; live clients and staff edits compare it.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="report_status_id"),
            models.Index(fields=["municipality", "-id"], name="report_municipality_id"),
            models.Index(fields=["created_at"], condition=models.Q(confirmed_at__isnull=True),
                         name="report_waiting_confirmation"),
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


class StaffMembership(models.Model):
    """What a staff user may see and do: a role in one department, or in a whole municipality.

    Caseworkers and department leads belong to a department; a municipality admin has no
    department and covers the whole municipality.
    """

    class Role(models.TextChoices):
        CASEWORKER = "caseworker", "Caseworker"
        DEPARTMENT_LEAD = "department_lead", "Department lead"
        MUNICIPALITY_ADMIN = "municipality_admin", "Municipality admin"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE, related_name="+")
    department = models.ForeignKey(
        Department, null=True, blank=True, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "municipality", "department"],
                name="membership_unique",
                nulls_distinct=False,
            ),
            models.CheckConstraint(
                condition=(
                    models.Q(role="municipality_admin", department__isnull=True)
                    | (~models.Q(role="municipality_admin") & models.Q(department__isnull=False))
                ),
                name="membership_department_matches_role",
            ),
        ]

    def __str__(self) -> str:
        scope = self.department or self.municipality
        return f"{self.user} — {self.get_role_display()} — {scope}"

    def clean(self) -> None:
        _same_municipality(self)


class CategoryQuestion(models.Model):
    """An extra question a category asks (an Open311 service definition attribute)."""

    class Datatype(models.TextChoices):
        STRING = "string", "Short text"
        NUMBER = "number", "Number"
        DATETIME = "datetime", "Date and time"
        TEXT = "text", "Long text"
        SINGLEVALUELIST = "singlevaluelist", "One of a list"
        MULTIVALUELIST = "multivaluelist", "Several of a list"

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="questions")
    code = models.SlugField(max_length=64)
    question = models.CharField(max_length=300)
    description = models.CharField(max_length=500, blank=True)
    datatype = models.CharField(max_length=20, choices=Datatype.choices)
    required = models.BooleanField(default=False)
    order = models.PositiveIntegerField(default=0)
    # For the list datatypes: [{"key": "broken", "name": "Knækket"}, …]
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["category", "order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["category", "code"], name="question_unique_code")
        ]

    def __str__(self) -> str:
        return f"{self.category.code}: {self.code}"


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
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["report", "id"]


class ApiClient(models.Model):
    """An app or system that uses the APIs with a key (Open311 api_key, or
    `Authorization: Api-Key …` on the REST API)."""

    name = models.CharField(max_length=200)
    municipality = models.ForeignKey(
        Municipality, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Only reports in this municipality; empty for all.",
    )
    active = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key of an API client. Only a SHA-256 hash of the secret part is stored."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client.name}: os2geo_{self.prefix}_…"


class IdempotencyRecord(models.Model):
    """The outcome of a POST made with an Idempotency-Key, per client scope: written in the
    same transaction as the POST's effect (reports.idempotency), so it exists exactly when
    the effect does."""

    scope = models.CharField(max_length=100)  # "client:<id>" or "anon:<address>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]


class Webhook(models.Model):
    """A back-office system that wants report events: signed JSON POSTs."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="webhooks")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="webhooks",
                                   help_text="Only this department's reports; empty for all.")
    url = models.URLField(max_length=500)
    secret = models.CharField(max_length=200, help_text="Shared secret for the HMAC signature.")
    event_types = models.JSONField(default=list, blank=True,
                                   help_text='e.g. ["report.created", "report.updated"]; '
                                             "empty for all.")
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.url

    def clean(self) -> None:
        """The department is the municipality's, and the URL no private or local target
        (unless the operator allows those; reports.outbound checks again at every call)."""
        from reports import outbound

        _same_municipality(self)
        try:
            outbound.check_target(self.url)
        except outbound.OutboundRefused as exc:
            raise ValidationError({"url": str(exc)}) from None
        except outbound.OutboundFailed:
            pass  # not resolvable now; its deliveries will say so in the delivery log


class Notification(models.Model):
    """One mail or webhook call to deliver: written in the same transaction as the change
    that causes it (a transactional outbox), delivered by the worker with retries."""

    class Channel(models.TextChoices):
        EMAIL = "email", "Email"
        WEBHOOK = "webhook", "Webhook"

    class State(models.TextChoices):
        PENDING = "pending", "Waiting"
        SENDING = "sending", "Being sent"
        SENT = "sent", "Sent"
        DEAD = "dead", "Gave up"

    channel = models.CharField(max_length=10, choices=Channel.choices)
    # The same on every attempt of this row: webhooks send it as X-OS2geo-Delivery and mails
    # as their Message-ID, so a receiver that sees it twice knows the second is a replay.
    delivery_id = models.UUIDField(default=uuid.uuid4, db_default=RandomUUID(), unique=True,
                                   editable=False)
    event = models.CharField(max_length=50)
    report = models.ForeignKey(Report, null=True, blank=True, on_delete=models.CASCADE,
                               related_name="notifications")
    webhook = models.ForeignKey(Webhook, null=True, blank=True, on_delete=models.CASCADE,
                                related_name="deliveries")
    recipient = models.CharField(max_length=500)
    subject = models.CharField(max_length=300, blank=True)
    body_text = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    payload = models.JSONField(null=True, blank=True)
    headers = models.JSONField(default=dict, blank=True, help_text="Extra mail headers.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_until = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True,
                                  help_text="The worker that holds the lease.")
    last_error = models.TextField(blank=True)
    last_response_code = models.PositiveSmallIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.channel} {self.event} → {self.recipient} ({self.state})"


class Subscription(models.Model):
    """Someone following a report by mail (the reporter, or a citizen with the same
    problem). Confirmed by a signed link (double opt-in) unless it is the reporter's own."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="followers")
    email = models.EmailField()
    language = models.CharField(max_length=8, default="da")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["report", "email"],
                                               name="subscription_unique_follower")]

    def __str__(self) -> str:
        return f"{self.email} follows #{self.report_id}"


class AreaAlert(models.Model):
    """Mail about new reports in an area, or within a radius of a point: at once, or as a
    daily digest. Confirmed by a signed link (double opt-in)."""

    class Frequency(models.TextChoices):
        IMMEDIATE = "immediate", "At once"
        DAILY = "daily", "Daily digest"

    email = models.EmailField()
    area = models.ForeignKey("maps.Area", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="+")
    location = models.PointField(srid=4326, null=True, blank=True)
    radius_m = models.PositiveIntegerField(null=True, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices,
                                 default=Frequency.IMMEDIATE)
    language = models.CharField(max_length=8, default="da")
    confirmed_at = models.DateTimeField(null=True, blank=True)
    last_digest_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.CheckConstraint(
            condition=(models.Q(area__isnull=False, location__isnull=True)
                       | models.Q(area__isnull=True, location__isnull=False,
                                  radius_m__isnull=False)),
            name="alert_area_or_circle")]

    def __str__(self) -> str:
        where = self.area.name if self.area_id else f"{self.radius_m} m around a point"
        return f"{self.email}: {where} ({self.frequency})"


class ResponseTemplate(models.Model):
    """A ready public reply staff can pick (and edit) for a category and status."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="response_templates")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="response_templates",
                                 help_text="Empty: every category of the municipality.")
    status = models.CharField(max_length=20, choices=Status.choices, blank=True,
                              help_text="Empty: any status change or reply.")
    title = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        ordering = ["municipality", "title"]

    def __str__(self) -> str:
        return self.title
