"""The one write core for a report that exists. Every change (status, reply, note, re-route,
assignment, priority, category, place, hiding, confirmation, photos, merging) goes:

    report = changes.lock(report_id, …)      lock the row, check scope and version
    …change the fields…
    changes.record(report, kind=…, fields=…)  bump the version, one timeline row, the live
                                              event after commit

so that no service can forget one of them (there were four hand-written copies). Mail and
webhooks stay with each service: what to send differs per change (reports.notifications.outbox).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils import timezone

from geoservice.errors import NotFound, StaleVersion
from reports import selectors
from reports.live import events
from reports.models import Report, ReportEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Fields from which PostgreSQL computes Report.public; after writing one, it is read back.
_PUBLIC_INPUTS = {"confirmed_at", "hidden"}


def lock(report_id: int, *, expected_version: int | None = None,
         staff: User | None = None) -> Report:
    """The report, locked for this transaction (concurrent changes serialise).

    With `staff`, a report outside that user's departments raises PermissionDenied, with no
    hint that it exists (the one scope rule, reports.selectors.staff_department_ids). With
    `expected_version`, a change based on an older copy raises StaleVersion.
    """
    report = (Report.objects.select_for_update(of=("self",))
              .select_related("department", "category", "municipality")
              .filter(pk=report_id).first())
    if staff is not None and (report is None or report.department_id
                              not in selectors.staff_department_ids(staff)):
        raise PermissionDenied("You cannot handle this report.")
    if report is None:
        raise NotFound(f"No report {report_id}.")
    StaleVersion.check(report, expected_version)
    return report


def record(report: Report, *, kind: str, fields: tuple[str, ...] = (),
           actor: User | None = None, actor_label: str = "",
           public_text: str = "", internal_text: str = "", from_status: str = "",
           to_status: str = "", at: dt.datetime | None = None,
           event: str | None = events.UPDATED,
           previous_department_id: int | None = None) -> ReportEvent:
    """Save `fields` of a locked report with a new version, add its timeline row, and send
    the live `event` once the transaction commits (None: the caller announces it)."""
    now = at or timezone.now()
    report.version += 1
    report.updated_at = now
    report.save(update_fields=["version", "updated_at", *fields])
    if _PUBLIC_INPUTS & set(fields):
        report.refresh_from_db(fields=["public"])
    row = ReportEvent.objects.create(
        report=report, kind=kind, actor=actor,
        actor_label=actor_label or (report.department.name if report.department_id else ""),
        from_status=from_status, to_status=to_status, public_text=public_text.strip(),
        internal_text=internal_text.strip(), created_at=now)
    if event is not None:
        events.report_changed(event, report, previous_department_id=previous_department_id)
    return row
