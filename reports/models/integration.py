"""Back-office systems: Open311 destinations that reports are sent on to, the case each
report has there, the updates read back from them, and updates that front ends post to us
(mySociety's `POST servicerequestupdates`)."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.core.exceptions import ValidationError
from django.utils import timezone

from reports.lifecycle import Status
from reports.models.clients import ApiClient
from reports.models.organisation import Department, Municipality, _same_municipality
from reports.models.report import Report, ReportEvent
from reports.models.subjects import Category

# How a destination's statuses map to our lifecycle when its own table does not say:
# GeoReport v2's two, mySociety's extended ones (FixMyStreet, Open311 adapters) and ours
# (another OS2geo sends ours as `external_status_code`). "open" moves nothing: it says
# only that the case is not closed.
DEFAULT_STATUS_MAP: dict[str, str | None] = {
    "open": None,
    "closed": Status.RESOLVED,
    "fixed": Status.RESOLVED,
    "investigating": Status.ACKNOWLEDGED,
    "action_scheduled": Status.IN_PROGRESS,
    "planned": Status.IN_PROGRESS,
    "not_councils_responsibility": Status.REFERRED,
    "no_further_action": Status.REJECTED,
    "internal_referral": None,
    "duplicate": None,  # a duplicate needs our original; staff merge it here
    "reopen": Status.ACKNOWLEDGED,
    **{status.value: status.value for status in Status if status != Status.DUPLICATE},
}


class Destination(models.Model):
    """A back-office system that takes reports over Open311 GeoReport v2 (a case system,
    a works-management system, a contractor's portal, another OS2geo)."""

    class UpdatesAs(models.TextChoices):
        PUBLIC = "public", "Public reply"
        INTERNAL = "internal", "Internal note"

    class Poll(models.TextChoices):
        UPDATES = "updates", "servicerequestupdates (mySociety)"
        REQUESTS = "requests", "requests with updated_after"
        NONE = "none", "Do not read status back"

    name = models.CharField(max_length=200)
    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="destinations")
    department = models.ForeignKey(Department, null=True, blank=True, on_delete=models.CASCADE,
                                   related_name="destinations",
                                   help_text="Only this department's reports; empty for all.")
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.CASCADE,
                                 related_name="destinations",
                                 help_text="Only reports in this category; empty for all.")
    body = models.ForeignKey("reports.ResponsibleBody", null=True, blank=True,
                             on_delete=models.CASCADE, related_name="destinations",
                             help_text="Only reports forwarded to this responsible body; "
                                       "empty: only reports that stay with the municipality.")
    endpoint = models.URLField(max_length=500,
                               help_text="The GeoReport v2 base URL, e.g. "
                                         "https://sag.example.dk/open311/v2/")
    api_key = models.CharField(max_length=300, blank=True)
    jurisdiction_id = models.CharField(max_length=100, blank=True)
    service_codes = models.JSONField(
        default=dict, blank=True,
        help_text='Our category code to theirs, e.g. {"pothole": "VEJ-01"}; '
                  "an unmapped category is sent with its own code.")
    attributes = models.JSONField(
        default=dict, blank=True,
        help_text='Our question code to their attribute code, e.g. {"depth": "dybde"}, '
                  '"" to leave it out; unmapped answers are sent under their own code.')
    statuses = models.JSONField(
        default=dict, blank=True,
        help_text='Their status to ours, e.g. {"afsluttet": "resolved", "open": null}; '
                  "on top of the default table (open, closed, fixed, …, and ours).")
    updates_as = models.CharField(max_length=10, choices=UpdatesAs.choices,
                                  default=UpdatesAs.PUBLIC,
                                  help_text="How their text on an update is recorded here.")
    send_updates = models.BooleanField(
        default=True, help_text="Send public replies and status changes made here on as "
                                "servicerequestupdates (when they take them).")
    poll = models.CharField(max_length=10, choices=Poll.choices, default=Poll.UPDATES)
    active = models.BooleanField(default=True)
    # The newest `updated_datetime` read from them; the next poll starts a little before.
    synced_until = models.DateTimeField(null=True, blank=True)
    last_sync_at = models.DateTimeField(null=True, blank=True)
    last_sync = models.JSONField(default=dict, blank=True,
                                 help_text="What the last status poll did.")

    class Meta:
        ordering = ["municipality", "name"]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        _same_municipality(self)
        if self.category is not None and self.category.municipality_id != self.municipality_id:
            raise ValidationError({"category": "Choose a category of the same municipality."})
        if not self.endpoint.endswith("/"):
            self.endpoint += "/"
        bad = {key: value for key, value in (self.statuses or {}).items()
               if value is not None and value not in Status.values}
        if bad:
            raise ValidationError({"statuses": f"Not our statuses: {bad}."})

    def takes(self, report: Report) -> bool:
        return (self.active and self.municipality_id == report.municipality_id
                and self.department_id in (None, report.department_id)
                and self.category_id in (None, report.category_id)
                and self.body_id == report.responsible_body_id)

    def our_status(self, theirs: str) -> tuple[bool, str | None]:
        """(known, our status or None for "moves nothing") for one of their statuses."""
        key = theirs.strip().lower().replace(" ", "_")
        table = {**DEFAULT_STATUS_MAP, **{k.lower(): v for k, v in self.statuses.items()}}
        return key in table, table.get(key)


class ExternalCase(models.Model):
    """A report's case in one destination: there once they accepted it, with their id (or
    their token until it resolves to an id)."""

    class State(models.TextChoices):
        PENDING = "pending", "Not sent yet"
        SENT = "sent", "Accepted"
        FAILED = "failed", "Gave up"

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="external_cases")
    destination = models.ForeignKey(Destination, on_delete=models.CASCADE, related_name="cases")
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    service_request_id = models.CharField(max_length=200, blank=True)
    token = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The newest update of theirs applied here: an older one never overwrites it.
    external_status = models.CharField(max_length=100, blank=True)
    external_updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["report", "destination"],
                                    name="external_case_once_per_destination"),
            models.UniqueConstraint(fields=["destination", "service_request_id"],
                                    condition=~models.Q(service_request_id=""),
                                    name="external_case_their_id_once"),
        ]

    def __str__(self) -> str:
        return f"#{self.report_id} at {self.destination}: {self.service_request_id or '—'}"


class ExternalUpdate(models.Model):
    """An update read from a destination, kept by its id so it is applied exactly once."""

    destination = models.ForeignKey(Destination, on_delete=models.CASCADE,
                                    related_name="updates")
    update_id = models.CharField(max_length=200)
    case = models.ForeignKey(ExternalCase, null=True, on_delete=models.SET_NULL,
                             related_name="updates")
    updated_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=100, blank=True)
    outcome = models.CharField(max_length=200)
    event = models.ForeignKey(ReportEvent, null=True, on_delete=models.SET_NULL,
                              related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["destination", "update_id"],
                                               name="external_update_once")]


class InboundUpdate(models.Model):
    """An update a front end posted to us (mySociety's `POST servicerequestupdates`): the
    citizen's comment on a report it sent here, once per the client's update id."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="updates")
    their_update_id = models.CharField(max_length=200)
    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="inbound_updates")
    event = models.ForeignKey(ReportEvent, on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=50, blank=True,
                              help_text="The status the front end shows (information only).")
    # Contact data: staff only, never in public output.
    name = models.CharField(max_length=200, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=40, blank=True)
    media_url = models.URLField(max_length=500, blank=True)
    updated_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["client", "their_update_id"],
                                               name="inbound_update_once")]
