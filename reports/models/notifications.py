"""What goes out: webhooks, the outbox of mails and calls, followers and area alerts."""

from __future__ import annotations

import uuid

from django.contrib.gis.db import models
from django.contrib.postgres.functions import RandomUUID
from django.core.exceptions import ValidationError
from django.utils import timezone

from reports.models.organisation import Department, Municipality, _same_municipality
from reports.models.report import Report


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
        (unless the operator allows those; reports.notifications.outbound checks again at
        every call)."""
        from reports.notifications import outbound

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
        OPEN311 = "open311", "Open311 destination"

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
    # An Open311 destination: `payload` says what to send ({"send": "request"}, or
    # {"send": "update", "event": <timeline row id>}).
    destination = models.ForeignKey("Destination", null=True, blank=True,
                                    on_delete=models.CASCADE, related_name="deliveries")
    recipient = models.CharField(max_length=500)
    subject = models.CharField(max_length=300, blank=True)
    # A mail is enqueued as a template, a language and a JSON snapshot of what it shows;
    # the worker renders the bodies at the first attempt and keeps them here.
    template = models.CharField(max_length=50, blank=True)
    language = models.CharField(max_length=8, blank=True)
    context = models.JSONField(null=True, blank=True)
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
    # A follower who asked to be asked "is it fixed?" too, once the report is resolved.
    follow_up = models.BooleanField(default=False, db_default=False)
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
        where = self.area.name if self.area else f"{self.radius_m} m around a point"
        return f"{self.email}: {where} ({self.frequency})"
