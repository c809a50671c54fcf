"""Staff triage services: status, re-routing, category and place changes, priority and due
time, public replies, internal notes, assignment, hiding, duplicate merging, bulk actions.

Services like those in reports.services (kept apart by size): each locks the report, checks
that the acting user may handle it (reports.selectors.staff_department_ids, the one scope
rule), refuses a change based on a stale version, bumps the version, writes one timeline row,
and enqueues mail and live events in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from geoservice.errors import InvalidInput, InvalidTransition, StaleVersion
from maps.geo import haversine_m
from reports import events, notify, selectors, services
from reports.lifecycle import Status
from reports.models import Department, Priority, Report, ReportEvent, Subscription
from reports.privacy import mask_identity_numbers


def _locked_for(actor, report_id: int, expected_version: int | None) -> Report:
    report = (Report.objects.select_for_update(of=("self",))
              .select_related("department", "category").filter(pk=report_id).first())
    if report is None or report.department_id not in selectors.staff_department_ids(actor):
        # Outside the actor's scope a report does not exist (no hint that it does).
        raise PermissionDenied("You cannot handle this report.")
    StaleVersion.check(report, expected_version)
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


@transaction.atomic
def report_set_status(*, actor, report_id: int, to_status: str, public_text: str = "",
                      internal_text: str = "", duplicate_of_id: int | None = None,
                      expected_version: int | None = None) -> Report:
    """A status change by staff: the scope check here, the lifecycle in
    services.report_transition (the only writer of status). Staff resolve with a public
    reply, so the reporter learns what was done."""
    _locked_for(actor, report_id, expected_version)
    if to_status == Status.RESOLVED and not public_text.strip():
        raise InvalidInput("Some fields are invalid.", {
            "public_text": ["Tell the reporter what was done."]})
    return services.report_transition(
        report_id=report_id, to_status=to_status, actor=actor, public_text=public_text,
        internal_text=internal_text, duplicate_of_id=duplicate_of_id,
        expected_version=expected_version)


@transaction.atomic
def report_set_priority(*, actor, report_id: int, priority: str,
                        due: dt.datetime | None = None,
                        expected_version: int | None = None) -> Report:
    """Set a report's priority and its due time (expected_datetime in both APIs)."""
    if priority not in Priority.values:
        raise InvalidInput("Some fields are invalid.", {
            "priority": [f"Use one of {', '.join(Priority.values)}."]})
    report = _locked_for(actor, report_id, expected_version)
    changes = []
    if priority != report.priority:
        changes.append(f"priority {report.priority} → {priority}")
        report.priority = priority
    if due is not None and due != report.expected_at:
        changes.append(f"due {timezone.localtime(due):%Y-%m-%d %H:%M}")
        report.expected_at = due
    if not changes:
        raise InvalidInput("Some fields are invalid.", {"priority": ["Nothing changed."]})
    _record(report, actor, ReportEvent.Kind.PRIORITY, internal_text="; ".join(changes),
            fields=("priority", "expected_at"))
    events.report_changed(events.UPDATED, report.pk)
    return report


@transaction.atomic
def report_hide(*, actor, report_id: int, reason: str,
                expected_version: int | None = None) -> Report:
    """Take a report off every public map, page, feed and API (abusive or personal
    content). Staff keep it; the reason is internal."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Some fields are invalid.", {"reason": ["Say why it is hidden."]})
    report = _locked_for(actor, report_id, expected_version)
    if report.hidden:
        raise InvalidInput("Some fields are invalid.", {"reason": ["It is already hidden."]})
    report.hidden = True
    report.hidden_reason = reason[:500]
    report.published = False
    _record(report, actor, ReportEvent.Kind.HIDDEN, internal_text=reason,
            fields=("hidden", "hidden_reason", "published"))
    events.report_changed(events.UPDATED, report.pk)
    return report


@transaction.atomic
def report_unhide(*, actor, report_id: int, expected_version: int | None = None) -> Report:
    """Undo report_hide: the report is public again, everywhere it was."""
    report = _locked_for(actor, report_id, expected_version)
    if not report.hidden:
        raise InvalidInput("Some fields are invalid.", {"reason": ["It is not hidden."]})
    report.hidden = False
    report.published = True
    _record(report, actor, ReportEvent.Kind.SHOWN,
            internal_text=f"Shown again (was hidden: {report.hidden_reason})",
            fields=("hidden", "published"))
    events.report_changed(events.UPDATED, report.pk)
    return report


def _reroute_after_change(report: Report, actor, kind: str, *, internal: str,
                          fields: tuple[str, ...]) -> None:
    """Route a report again after its category or place changed; record and announce it."""
    decision = services.route_report(report.municipality, report.category, report.location)
    previous_id = report.department_id
    if decision.department_id is not None and decision.department_id != previous_id:
        report.department = Department.objects.get(pk=decision.department_id)
        report.needs_triage = decision.needs_triage
        report.routing_explanation = decision.explanation
        fields = (*fields, "department", "needs_triage", "routing_explanation")
        internal += f" Routed again: {decision.explanation}"
        public = services.sent_to(report.department.name, report.language)
    else:
        public = ""
    _record(report, actor, kind, public_text=public, internal_text=internal, fields=fields)
    if report.department_id != previous_id:
        notify.enqueue_report_routed(report)
    events.report_changed(events.UPDATED, report.pk, previous_department_id=previous_id)


@transaction.atomic
def report_change_category(*, actor, report_id: int, category_code: str,
                           expected_version: int | None = None) -> Report:
    """Put a report in another category of its municipality; it is routed again."""
    report = _locked_for(actor, report_id, expected_version)
    category = selectors.category_for_report(report.municipality, category_code)
    if category is None:
        raise InvalidInput("Some fields are invalid.", {
            "category": ["Choose an active category of the report's municipality."]})
    if category.pk == report.category_id:
        raise InvalidInput("Some fields are invalid.", {"category": ["It is already there."]})
    previous = report.category.name
    report.category = category
    _reroute_after_change(report, actor, ReportEvent.Kind.CATEGORY,
                          internal=f"Category {previous} → {category.name}.",
                          fields=("category",))
    return report


@transaction.atomic
def report_move(*, actor, report_id: int, location: Point,
                expected_version: int | None = None) -> Report:
    """Move a report's pin (inside its municipality); it is routed again."""
    report = _locked_for(actor, report_id, expected_version)
    location = Point(location.x, location.y, srid=4326)
    if not report.municipality.area.geom.intersects(location):
        raise InvalidInput("Some fields are invalid.", {
            "location": [f"The place must stay inside {report.municipality.name}."]})
    moved_m = haversine_m(report.location, location)
    report.location = location
    _reroute_after_change(report, actor, ReportEvent.Kind.MOVED,
                          internal=f"Moved {moved_m:.0f} m.", fields=("location",))
    return report


@transaction.atomic
def report_merge(*, actor, report_id: int, into_id: int, public_text: str = "",
                 expected_version: int | None = None) -> Report:
    """Close a report as a duplicate of another in the same municipality and carry its
    followers (and its reporter, when they left an email) over to the original."""
    report = _locked_for(actor, report_id, expected_version)
    original = Report.objects.select_for_update().filter(pk=into_id).first()
    if original is None or original.municipality_id != report.municipality_id:
        raise InvalidInput("Some fields are invalid.", {
            "duplicate_of": ["Choose a report of the same municipality."]})
    text = public_text.strip() or _duplicate_text(original, report.language)
    services.report_transition(report_id=report.pk, to_status=Status.DUPLICATE, actor=actor,
                               public_text=text, duplicate_of_id=original.pk)
    followers = {s.email: s for s in Subscription.objects.filter(report=report)}
    if report.reporter_email and report.reporter_email not in followers:
        followers[report.reporter_email] = Subscription(
            report=report, email=report.reporter_email, language=report.language,
            confirmed_at=report.created_at)  # the reporter gave the address when filing
    existing = set(Subscription.objects.filter(report=original).values_list("email", flat=True))
    carried = [Subscription(report=original, email=s.email, language=s.language,
                            confirmed_at=s.confirmed_at)
               for email, s in followers.items() if email not in existing]
    Subscription.objects.bulk_create(carried)
    original.version += 1
    original.updated_at = timezone.now()
    original.save(update_fields=["version", "updated_at"])
    ReportEvent.objects.create(
        report=original, kind=ReportEvent.Kind.MERGED, actor=actor,
        actor_label=original.department.name if original.department_id else "",
        internal_text=f"#{report.pk} merged in; {len(carried)} follower(s) carried over.",
        created_at=original.updated_at)
    events.report_changed(events.UPDATED, original.pk)
    return Report.objects.get(pk=report.pk)


def _duplicate_text(original: Report, language: str) -> str:
    with translation.override(language):
        return gettext("This is already reported as #%(id)s; follow it there.") % {
            "id": original.pk}


@dataclass
class BulkResult:
    done: list[int]
    failed: dict[int, str]


def reports_bulk(*, actor, report_ids: list[int], action: str, **arguments) -> BulkResult:
    """Run one action on many reports, each in its own transaction: one that fails (out of
    scope, a refused transition) is reported and does not stop the others."""
    actions = {"status": report_set_status, "reroute": report_reroute,
               "assign": report_assign}
    if action not in actions:
        raise InvalidInput("Some fields are invalid.", {"action": ["Unknown bulk action."]})
    result = BulkResult(done=[], failed={})
    for report_id in report_ids:
        try:
            actions[action](actor=actor, report_id=report_id, **arguments)
            result.done.append(report_id)
        except PermissionDenied:
            result.failed[report_id] = "You cannot handle this report."
        except (InvalidInput, InvalidTransition) as exc:
            result.failed[report_id] = exc.message
    return result
