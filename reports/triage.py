"""Staff triage services: re-routing, public replies, internal notes and assignment.

Services like those in reports.services (kept apart by size): each locks the report, checks
that the acting user may handle it (reports.selectors.staff_department_ids, the one scope
rule), refuses a change based on a stale version, bumps the version, writes one timeline row,
and enqueues mail and live events in the same transaction.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone

from geoservice.errors import InvalidInput, InvalidTransition
from reports import events, notify, selectors, services
from reports.models import Department, Report, ReportEvent
from reports.privacy import mask_identity_numbers


def _locked_for(actor, report_id: int, expected_version: int | None) -> Report:
    report = (Report.objects.select_for_update(of=("self",))
              .select_related("department", "category").filter(pk=report_id).first())
    if report is None or report.department_id not in selectors.staff_department_ids(actor):
        # Outside the actor's scope a report does not exist (no hint that it does).
        raise PermissionDenied("You cannot handle this report.")
    if expected_version is not None and expected_version != report.version:
        raise InvalidTransition(
            f"The report changed meanwhile (version {report.version}, you had "
            f"{expected_version}). Reload it and try again.",
            {"version": [f"Current version is {report.version}."]})
    return report


def _record(report: Report, actor, kind: str, *, public_text: str = "",
            internal_text: str = "", fields: tuple[str, ...] = ()) -> None:
    now = timezone.now()
    report.version += 1
    report.updated_at = now
    report.save(update_fields=["version", "updated_at", *fields])
    ReportEvent.objects.create(report=report, kind=kind, actor=actor,
                               actor_label=report.department.name, public_text=public_text,
                               internal_text=internal_text, created_at=now)


@transaction.atomic
def report_reply(*, actor, report_id: int, text: str, expected_version: int | None = None
                 ) -> Report:
    """A public reply: on the timeline, to every follower by mail, to live clients."""
    text = text.strip()
    if not text:
        raise InvalidInput("Some fields are invalid.", {"text": ["Write the reply."]})
    report = _locked_for(actor, report_id, expected_version)
    _record(report, actor, ReportEvent.Kind.PUBLIC_REPLY, public_text=text)
    notify.enqueue_report_updated(report, public_text=mask_identity_numbers(text),
                                  status_changed=False)
    events.report_changed(events.UPDATED, report.pk)
    return report


@transaction.atomic
def report_note(*, actor, report_id: int, text: str) -> Report:
    """An internal note: staff only; it changes nothing the public sees."""
    text = text.strip()
    if not text:
        raise InvalidInput("Some fields are invalid.", {"text": ["Write the note."]})
    report = _locked_for(actor, report_id, None)
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.INTERNAL_NOTE, actor=actor,
                               actor_label=report.department.name, internal_text=text,
                               created_at=timezone.now())
    return report


@transaction.atomic
def report_reroute(*, actor, report_id: int, department_id: int, reason: str = "",
                   expected_version: int | None = None) -> Report:
    """Send a report to another department of its municipality; both queues hear of it."""
    report = _locked_for(actor, report_id, expected_version)
    target = Department.objects.filter(pk=department_id,
                                       municipality_id=report.municipality_id).first()
    if target is None:
        raise InvalidInput("Some fields are invalid.", {
            "department": ["Choose a department of the report's municipality."]})
    if target.pk == report.department_id:
        raise InvalidInput("Some fields are invalid.", {
            "department": ["The report is already there."]})
    previous = report.department
    report.department = target
    report.needs_triage = False
    report.routing_explanation = f"Re-routed by staff from {previous.name} to {target.name}"
    _record(report, actor, ReportEvent.Kind.REROUTED,
            public_text=services.sent_to(target.name, report.language),
            internal_text=f"{previous.name} → {target.name}. {reason.strip()}".strip(),
            fields=("department", "needs_triage", "routing_explanation"))
    notify.enqueue_report_routed(report)
    events.report_changed(events.UPDATED, report.pk, previous_department_id=previous.pk)
    return report


@transaction.atomic
def report_assign(*, actor, report_id: int, assignee_id: int | None,
                  expected_version: int | None = None) -> Report:
    """Give a report to a colleague who may handle it (or to nobody)."""
    report = _locked_for(actor, report_id, expected_version)
    assignee = None
    if assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or report.department_id not in selectors.staff_department_ids(
                assignee):
            raise InvalidInput("Some fields are invalid.", {
                "assignee": ["Choose a colleague who handles this department."]})
    report.assigned_to = assignee
    _record(report, actor, ReportEvent.Kind.ASSIGNED,
            internal_text=f"Assigned to {assignee.get_username() if assignee else 'nobody'}",
            fields=("assigned_to",))
    events.report_changed(events.UPDATED, report.pk)
    return report
