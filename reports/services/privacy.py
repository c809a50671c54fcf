"""Private reports: a fact on the report (with who, when and why), one of the inputs of the
one definition of "public" (Report.public). A report is private because its category is
(Category.visibility, applied at filing and whenever the category changes) or because
staff made it so; a private report is on no public map, list, tile, feed or socket, while
staff, back offices and the reporter (by a private link in their mails) still see it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from geoservice.errors import Conflict, InvalidInput
from reports import changes
from reports.live import events
from reports.models import Category, Report, ReportEvent

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def category_reason(category: Category) -> str:
    kind = "staff only" if category.visibility == Category.Visibility.STAFF_ONLY else "private"
    return f"The category {category.name} is {kind}."


def is_category_private(category: Category) -> bool:
    return category.visibility != Category.Visibility.PUBLIC


@transaction.atomic
def report_make_private(*, actor: User, report_id: int, reason: str,
                        expected_version: int | None = None) -> Report:
    """Staff take one report off every public place, with a reason (staff only)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Some fields are invalid.", {"reason": ["Say why (staff only)."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if report.private:
        raise Conflict("The report is private already.")
    was_public = report.public
    report.private, report.private_reason = True, reason[:500]
    report.private_at, report.private_by = timezone.now(), actor
    changes.record(report, kind=ReportEvent.Kind.PRIVATE, actor=actor, internal_text=reason,
                   fields=("private", "private_reason", "private_at", "private_by"),
                   event=None)
    events.report_changed(events.UPDATED, report, left_public=was_public)
    return report


@transaction.atomic
def report_make_public(*, actor: User, report_id: int,
                       expected_version: int | None = None) -> Report:
    """Undo a staff decision to make a report private (not a private category's)."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if not report.private:
        raise Conflict("The report is not private.")
    if is_category_private(report.category):
        raise Conflict(f"{category_reason(report.category)} Its reports stay private.")
    report.private, report.private_reason, report.private_at, report.private_by = (
        False, "", None, None)
    changes.record(report, kind=ReportEvent.Kind.NOT_PRIVATE, actor=actor,
                   fields=("private", "private_reason", "private_at", "private_by"))
    if report.public and report.announced_at is None:
        from reports.services.filing import announce

        announce(report, timezone.now())
    return report


@transaction.atomic
def category_visibility_apply(category: Category) -> int:
    """After a category's visibility changed: its reports follow (a report staff made
    private stays so), each through the write core (version, timeline row, live event:
    maps drop one that leaves public). How many reports changed."""
    private = is_category_private(category)
    ids = (Report.objects.filter(category=category, private=False) if private else
           Report.objects.filter(category=category, private=True, private_by__isnull=True)
           ).values_list("pk", flat=True)
    now = timezone.now()
    changed = 0
    for report_id in list(ids):
        report = changes.lock(report_id)
        was_public = report.public
        report.private = private
        report.private_reason = category_reason(category) if private else ""
        report.private_at = now if private else None
        changes.record(report, kind=ReportEvent.Kind.PRIVATE if private
                       else ReportEvent.Kind.NOT_PRIVATE,
                       internal_text=report.private_reason or
                       f"The category {category.name} is public again.",
                       fields=("private", "private_reason", "private_at"), event=None)
        events.report_changed(events.UPDATED, report, left_public=was_public)
        changed += 1
    return changed
