"""After the fix: some time after a report is resolved, its reporter (and followers who
asked for it) get a signed one-time page: fixed or not, a satisfaction score, a comment and
a photo. "Not fixed" opens a reopen request in the department's queue, which staff accept
(back to in progress) or decline with a public reason (reports.services.followup)."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models.report import Report

SATISFACTION = (1, 5)


class FollowUp(models.Model):
    """One questionnaire to one address about one resolved report; answered once."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="follow_ups")
    email = models.EmailField()
    language = models.CharField(max_length=8, default="da")
    reporter = models.BooleanField(default=True, help_text="To the reporter (or a follower).")
    sent_at = models.DateTimeField(default=timezone.now)
    answered_at = models.DateTimeField(null=True, blank=True)
    fixed = models.BooleanField(null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(SATISFACTION[0]),
                                           MaxValueValidator(SATISFACTION[1])])
    comment = models.TextField(blank=True)

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            # Emptied by retention and erasure (the answer stays for the statistics).
            models.UniqueConstraint(fields=["report", "email"], condition=~models.Q(email=""),
                                    name="follow_up_once"),
            models.CheckConstraint(
                condition=models.Q(satisfaction__isnull=True)
                | models.Q(satisfaction__gte=SATISFACTION[0],
                           satisfaction__lte=SATISFACTION[1]),
                name="follow_up_satisfaction_range"),
        ]

    def __str__(self) -> str:
        return f"Follow-up on #{self.report_id}"


class ReopenRequest(models.Model):
    """"Not fixed", from a follow-up: waits in the department's queue for a decision."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for a decision")
        ACCEPTED = "accepted", _("Reopened")
        DECLINED = "declined", _("Declined")

    report = models.ForeignKey(Report, on_delete=models.CASCADE,
                               related_name="reopen_requests")
    follow_up = models.OneToOneField(FollowUp, on_delete=models.CASCADE,
                                     related_name="reopen_request")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    decided_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                   on_delete=models.SET_NULL, related_name="+")
    reason = models.TextField(blank=True, help_text="Why it was declined (public).")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["report"], condition=models.Q(state="open"),
                                name="reopen_request_open")]

    def __str__(self) -> str:
        return f"Reopen request on #{self.report_id} ({self.state})"
