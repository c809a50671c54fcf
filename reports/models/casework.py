"""Casework with people outside the staff: a question to the reporter, and a case handed
to an external party (a contractor, a utility, another authority). Both work by signed,
expiring links in a mail (reports.notifications.links): no account is needed."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from reports.models.report import Report


class ReporterQuestion(models.Model):
    """One question from staff to the reporter. While it is open the report waits for the
    reporter and its due date is paused; it closes when answered (once) or when nobody
    answered in the municipality's time (the report is back in the queue)."""

    class State(models.TextChoices):
        OPEN = "open", _("Waiting for the reporter")
        ANSWERED = "answered", _("Answered")
        EXPIRED = "expired", _("Not answered in time")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="questions")
    question = models.TextField()
    asked_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                 on_delete=models.SET_NULL, related_name="+")
    asked_at = models.DateTimeField(default=timezone.now)
    answer_by = models.DateTimeField(help_text="After this the question lapses.")
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    answer = models.TextField(blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    # The report's due time when the question was asked (it is paused meanwhile); the
    # waiting time is added to it when the question closes.
    paused_expected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-asked_at"]
        constraints = [models.UniqueConstraint(
            fields=["report"], condition=models.Q(state="open"),
            name="one_open_question_per_report")]
        indexes = [models.Index(fields=["answer_by"], condition=models.Q(state="open"),
                                name="question_open_answer_by")]

    def __str__(self) -> str:
        return f"Question on #{self.report_id} ({self.state})"


class Handover(models.Model):
    """A case handed to an external party by mail: they see what staff chose to share and
    reply, add photos, mark it done or refuse it, from a signed link, until it expires."""

    class State(models.TextChoices):
        OPEN = "open", _("With them")
        DONE = "done", _("Done by them")
        REFUSED = "refused", _("Refused by them")
        WITHDRAWN = "withdrawn", _("Taken back")

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="handovers")
    party = models.CharField(max_length=200, help_text="Who has it, e.g. 'Vejservice A/S'.")
    email = models.EmailField()
    instructions = models.TextField(blank=True)
    share_contact = models.BooleanField(
        default=False, help_text="Show them the reporter's name, e-mail and phone.")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    closed_at = models.DateTimeField(null=True, blank=True)
    language = models.CharField(max_length=8, default="da")

    class Meta:
        ordering = ["-sent_at"]

    def __str__(self) -> str:
        return f"#{self.report_id} with {self.party} ({self.state})"
