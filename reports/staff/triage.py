"""Staff triage services: status, re-routing, category and place changes, priority and due
time, public replies, internal notes, assignment, hiding, duplicate merging, bulk actions.

Each locks the report through the write core (reports.changes: scope check with the one
scope rule, stale versions refused), changes it, records it there (version, timeline row,
live event) and enqueues its mail in the same transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from geoservice.errors import ApplicationError, InvalidInput
from maps.geo import haversine_m
from reports import changes, selectors, services
from reports.lifecycle import Status
from reports.live import events
from reports.models import (
    Department,
    Handover,
    Priority,
    Report,
    ReportEvent,
    Subscription,
)
from reports.notifications import outbox
from reports.privacy import mask_identity_numbers

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def report_reply(*, actor: User, report_id: int, text: str, expected_version: int | None = None
                 ) -> Report:
    """A public reply: on the timeline, to every follower by mail, to live clients."""
    text = text.strip()
    if not text:
        raise InvalidInput("Some fields are invalid.", {"text": ["Write the reply."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    row = changes.record(report, kind=ReportEvent.Kind.PUBLIC_REPLY, actor=actor,
                         public_text=text)
    outbox.enqueue_report_updated(report, public_text=mask_identity_numbers(text),
                                  status_changed=False, event=row)
    return report


@transaction.atomic
def report_note(*, actor: User, report_id: int, text: str) -> Report:
    """An internal note: staff only; it changes nothing the public sees."""
    text = text.strip()
    if not text:
        raise InvalidInput("Some fields are invalid.", {"text": ["Write the note."]})
    report = changes.lock(report_id, staff=actor)
    # A note changes nothing anyone else sees: no version, no live event.
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.INTERNAL_NOTE, actor=actor,
                               actor_label=report.department.name, internal_text=text,
                               created_at=timezone.now())
    return report


@transaction.atomic
def report_reroute(*, actor: User, report_id: int, department_id: int, reason: str = "",
                   expected_version: int | None = None) -> Report:
    """Send a report to another department of its municipality; both queues hear of it."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
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
    changes.record(report, kind=ReportEvent.Kind.REROUTED, actor=actor,
                   public_text=services.sent_to(target.name, report.language),
                   internal_text=f"{previous.name} → {target.name}. {reason.strip()}",
                   fields=("department", "needs_triage", "routing_explanation"),
                   previous_department_id=previous.pk)
    outbox.enqueue_report_routed(report)
    return report


@transaction.atomic
def report_assign(*, actor: User, report_id: int, assignee_id: int | None,
                  expected_version: int | None = None) -> Report:
    """Give a report to a colleague who may handle it (or to nobody)."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    assignee = None
    if assignee_id is not None:
        assignee = get_user_model().objects.filter(pk=assignee_id, is_active=True).first()
        if assignee is None or report.department_id not in selectors.staff_department_ids(
                assignee):
            raise InvalidInput("Some fields are invalid.", {
                "assignee": ["Choose a colleague who handles this department."]})
    report.assigned_to = assignee
    changes.record(report, kind=ReportEvent.Kind.ASSIGNED, actor=actor, fields=("assigned_to",),
                   internal_text=f"Assigned to "
                                 f"{assignee.get_username() if assignee else 'nobody'}")
    return report


@transaction.atomic
def report_set_status(*, actor: User, report_id: int, to_status: str, public_text: str = "",
                      internal_text: str = "", duplicate_of_id: int | None = None,
                      expected_version: int | None = None) -> Report:
    """A status change by staff: the scope check here, the lifecycle in
    services.report_transition (the only writer of status). Staff resolve with a public
    reply, so the reporter learns what was done."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if to_status == Status.RESOLVED and not public_text.strip():
        raise InvalidInput("Some fields are invalid.", {
            "public_text": ["Tell the reporter what was done."]})
    return services.transition_locked(
        report, to_status=to_status, actor=actor, public_text=public_text,
        internal_text=internal_text, duplicate_of_id=duplicate_of_id, duplicate_scope=actor)


@transaction.atomic
def report_set_priority(*, actor: User, report_id: int, priority: str,
                        due: dt.datetime | None = None,
                        expected_version: int | None = None) -> Report:
    """Set a report's priority and its due time (expected_datetime in both APIs)."""
    if priority not in Priority.values:
        raise InvalidInput("Some fields are invalid.", {
            "priority": [f"Use one of {', '.join(Priority.values)}."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    what = []
    if priority != report.priority:
        what.append(f"priority {report.priority} → {priority}")
        report.priority = priority
    if due is not None and due != report.expected_at:
        what.append(f"due {timezone.localtime(due):%Y-%m-%d %H:%M}")
        report.expected_at = due
    if not what:
        raise InvalidInput("Some fields are invalid.", {"priority": ["Nothing changed."]})
    changes.record(report, kind=ReportEvent.Kind.PRIORITY, actor=actor,
                   internal_text="; ".join(what), fields=("priority", "expected_at"))
    return report


@transaction.atomic
def report_hide(*, actor: User, report_id: int, reason: str,
                expected_version: int | None = None) -> Report:
    """Take a report off every public map, page, feed and API (abusive or personal
    content). Staff keep it and can act on it as before; the reason is internal."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("Some fields are invalid.", {"reason": ["Say why it is hidden."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if report.hidden:
        raise InvalidInput("Some fields are invalid.", {"reason": ["It is already hidden."]})
    report.hidden = True
    report.hidden_reason = reason[:500]
    report.hidden_at = timezone.now()
    report.hidden_by = actor
    changes.record(report, kind=ReportEvent.Kind.HIDDEN, actor=actor, internal_text=reason,
                   fields=("hidden", "hidden_reason", "hidden_at", "hidden_by"))
    return report


@transaction.atomic
def report_unhide(*, actor: User, report_id: int, expected_version: int | None = None) -> Report:
    """Undo report_hide. The report is public again if its reporter had confirmed it (a
    report never confirmed stays unpublished); one that was never public before is
    announced now, once."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if not report.hidden:
        raise InvalidInput("Some fields are invalid.", {"reason": ["It is not hidden."]})
    report.hidden = False
    report.hidden_at = None
    report.hidden_by = None
    announce = report.confirmed_at is not None and report.announced_at is None
    changes.record(report, kind=ReportEvent.Kind.SHOWN, actor=actor,
                   internal_text=f"Shown again (was hidden: {report.hidden_reason})"
                                 + ("" if report.confirmed_at else
                                    "; not public until its reporter confirms it"),
                   fields=("hidden", "hidden_at", "hidden_by"),
                   event=None if announce else events.UPDATED)
    if announce:
        services.announce(report, timezone.now())
    return report


def _reroute_after_change(report: Report, actor: User, kind: str, *, internal: str,
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
    # A forward rule of a body at the new place (or for the new subject) takes it; staff
    # are not stopped where citizens would be: they have the report already.
    body = selectors.bodies_at(report.municipality, report.location).forwarding(
        report.category.kle.number)
    body_id = body.body_id if body is not None else None
    forward = body is not None and body_id != report.responsible_body_id
    if body_id != report.responsible_body_id:
        if report.responsible_body is not None:
            # The case forwarded to the body that is no longer responsible: its link stops.
            taken = Handover.objects.filter(report=report, state=Handover.State.OPEN,
                                            sent_by__isnull=True,
                                            email=report.responsible_body.email).update(
                state=Handover.State.WITHDRAWN, closed_at=timezone.now())
            if taken:
                internal += f" Taken back from {report.responsible_body.name}."
        report.responsible_body_id = body_id
        fields = (*fields, "responsible_body")
        if body is not None:
            internal += f" {body.explanation}."
            public = services.sent_to(body.body_name, report.language)
        else:
            internal += " No other body is responsible now."
    changes.record(report, kind=kind, actor=actor, public_text=public, internal_text=internal,
                   fields=fields, previous_department_id=previous_id)
    if report.department_id != previous_id:
        outbox.enqueue_report_routed(report)
    if forward:
        services.forward_to_body(report, timezone.now())


@transaction.atomic
def report_change_category(*, actor: User, report_id: int, category_code: str,
                           expected_version: int | None = None) -> Report:
    """Put a report in another category of its municipality; it is routed again."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
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
def report_move(*, actor: User, report_id: int, location: Point,
                expected_version: int | None = None) -> Report:
    """Move a report's pin (inside its municipality); it is routed again."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
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
def report_merge(*, actor: User, report_id: int, into_id: int, public_text: str = "",
                 expected_version: int | None = None) -> Report:
    """Close a report as a duplicate of another public report in the actor's departments
    and carry its followers (and its reporter, when they left an email) over to the
    original."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    original = services.duplicate_target(report, into_id, staff=actor)
    original = changes.lock(original.pk, staff=actor)
    text = public_text.strip() or _duplicate_text(original, report.language)
    services.transition_locked(report, to_status=Status.DUPLICATE, actor=actor,
                               public_text=text, duplicate_of_id=original.pk,
                               duplicate_scope=actor)
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
    changes.record(original, kind=ReportEvent.Kind.MERGED, actor=actor,
                   internal_text=f"#{report.pk} merged in; {len(carried)} follower(s) "
                                 "carried over.")
    return Report.objects.get(pk=report.pk)


def _duplicate_text(original: Report, language: str) -> str:
    with translation.override(language):
        return gettext("This is already reported as #%(id)s; follow it there.") % {
            "id": original.pk}


@dataclass
class BulkResult:
    done: list[int]
    failed: dict[int, str]


def reports_bulk(*, actor: User, report_ids: list[int], action: str, **arguments: Any
                 ) -> BulkResult:
    """Run one action on many reports, each in its own transaction: one that fails (out of
    scope, a refused transition) is reported and does not stop the others."""
    actions: dict[str, Callable[..., Report]] = {
        "status": report_set_status, "reroute": report_reroute, "assign": report_assign}
    if action not in actions:
        raise InvalidInput("Some fields are invalid.", {"action": ["Unknown bulk action."]})
    result = BulkResult(done=[], failed={})
    for report_id in report_ids:
        try:
            actions[action](actor=actor, report_id=report_id, **arguments)
            result.done.append(report_id)
        except PermissionDenied:
            result.failed[report_id] = "You cannot handle this report."
        except ApplicationError as exc:
            result.failed[report_id] = exc.message
    return result
