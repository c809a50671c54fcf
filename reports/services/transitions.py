"""The status lifecycle's one writer (reports.lifecycle has the table): a transition on a
locked report, recorded through the write core (reports.changes)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from geoservice.errors import (
    InvalidInput,
    InvalidTransition,
)
from reports import changes, selectors
from reports.lifecycle import CLOSED_STATUSES, NEEDS_PUBLIC_TEXT, Status, can_transition
from reports.models import (
    Destination,
    Report,
    ReportEvent,
)
from reports.notifications import outbox
from reports.privacy import mask_identity_numbers

if TYPE_CHECKING:
    from django.contrib.auth.models import User


@transaction.atomic
def report_transition(
    *,
    report_id: int,
    to_status: str,
    actor: User | None = None,
    actor_label: str = "",
    public_text: str = "",
    internal_text: str = "",
    duplicate_of_id: int | None = None,
    expected_version: int | None = None,
    at: dt.datetime | None = None,
    origin: Destination | None = None,
) -> Report:
    """Move a report to `to_status` (see reports.lifecycle.TRANSITIONS) and record it.

    Locks the report row, so concurrent transitions serialise; with `expected_version` a
    change based on a stale copy raises StaleVersion instead of overwriting.
    """
    report = changes.lock(report_id, expected_version=expected_version)
    return transition_locked(report, to_status=to_status, actor=actor,
                             actor_label=actor_label, public_text=public_text,
                             internal_text=internal_text, duplicate_of_id=duplicate_of_id,
                             at=at, origin=origin)


def transition_locked(report: Report, *, to_status: str, actor: User | None = None,
                      actor_label: str = "",
                      public_text: str = "", internal_text: str = "",
                      duplicate_of_id: int | None = None,
                      duplicate_scope: User | None = None, at: dt.datetime | None = None,
                      origin: Destination | None = None) -> Report:
    """The only writer of `status`, on a report locked by reports.changes.lock. With
    `duplicate_scope` (a staff user), the original of a duplicate must be in their scope;
    `origin` is the back office the change came from (it is not sent back there)."""
    if to_status not in Status.values:
        raise InvalidInput("Unknown status.", {"status": [f"Unknown status {to_status!r}."]})
    if not can_transition(report.status, to_status):
        raise InvalidTransition(
            f"A report that is {report.status} cannot become {to_status}.",
            {"status": [f"Not allowed from {report.status}."]},
        )
    public_text = public_text.strip()
    if to_status in NEEDS_PUBLIC_TEXT and not public_text:
        raise InvalidInput("Some fields are invalid.",
                           {"public_text": [f"Say publicly why the report is {to_status}."]})
    duplicate_of = None
    if to_status == Status.DUPLICATE:
        duplicate_of = duplicate_target(report, duplicate_of_id, staff=duplicate_scope)
    from_status = report.status
    report.status = to_status
    report.duplicate_of = duplicate_of if to_status == Status.DUPLICATE else None
    # Retention counts from the last time the report closed; reopening stops the clock.
    report.closed_at = (at or timezone.now()) if to_status in CLOSED_STATUSES else None
    row = changes.record(report, kind=ReportEvent.Kind.STATUS,
                         fields=("status", "duplicate_of", "closed_at"),
                   actor=actor, actor_label=actor_label, from_status=from_status,
                   to_status=to_status, public_text=public_text, internal_text=internal_text,
                   at=at)
    outbox.enqueue_report_updated(report, public_text=mask_identity_numbers(public_text),
                                  status_changed=True, event=row, origin=origin)
    return report


def duplicate_target(report: Report, duplicate_of_id: int | None, *,
                     staff: User | None = None) -> Report:
    """The original a report duplicates: another public report of the same municipality
    that is not itself a duplicate, and with `staff`, one in that user's departments."""
    if duplicate_of_id is None:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["Name the report this one duplicates."]})
    target = Report.objects.filter(pk=duplicate_of_id).first()
    if staff is not None and target is not None and (
            target.department_id not in selectors.staff_department_ids(staff)):
        target = None  # outside the user's scope it does not exist
    if target is None or target.pk == report.pk:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["No such other report."]})
    if target.municipality_id != report.municipality_id:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["The original must be in the same municipality."]})
    if target.status == Status.DUPLICATE:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["That report is itself a duplicate."]})
    if not target.public:
        raise InvalidInput("Some fields are invalid.", {"duplicate_of": [
            "The original must be public (confirmed, not hidden, not private)."]})
    return target
