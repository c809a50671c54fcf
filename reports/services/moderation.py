"""Redaction: staff remove part of a citizen's text (a neighbour's name, a licence plate, a
phone number) or a whole photo from a report, with a reason.

- The public sees "[fjernet]" where the passage was, and a timeline line with the reason; a
  removed photo leaves every public output at once.
- The passage goes from every stored copy at once (reports.services.scrubbing): the report,
  its timeline, the outbox's snapshots and rendered mails, stored POST answers. Staff can
  still read it on the report's Redaction row, for the municipality's
  `redaction_keep_days`; then the worker purges it (`redactions_purge`), a photo's files
  with it, and the deletion log says so.
- The reporter is told by mail, in their language.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from geoservice.errors import Conflict, InvalidInput
from reports import changes
from reports.models import REMOVED, DeletionLog, Photo, Redaction, Report, ReportEvent
from reports.notifications import outbox
from reports.privacy import mask_citizen_text
from reports.services.scrubbing import MIN_NEEDLE, scrub_reports

if TYPE_CHECKING:
    from django.contrib.auth.models import User

REASON_MAX_LENGTH = 300


def _reason(reason: str) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Some fields are invalid.",
                           {"reason": ["Say why (the public and the reporter read it)."]})
    if len(reason) > REASON_MAX_LENGTH:
        raise InvalidInput("Some fields are invalid.",
                           {"reason": [f"At most {REASON_MAX_LENGTH} characters."]})
    return reason


def _citizen_text(report: Report, target: str, event_id: int | None) -> str:
    """The citizen's own text the passage must be found in."""
    if target == Redaction.Target.DESCRIPTION:
        return report.description
    if target == Redaction.Target.ANSWER:
        return "\n".join(str(value) for value in (report.answers or {}).values())
    if target == Redaction.Target.UPDATE:
        event = report.events.filter(pk=event_id or 0,
                                     kind=ReportEvent.Kind.CITIZEN_UPDATE).first()
        if event is None:
            raise InvalidInput("Some fields are invalid.",
                               {"event": ["No such update from the citizen on this report."]})
        return f"{event.public_text}\n{event.internal_text}"
    raise InvalidInput("Some fields are invalid.", {"target": [f"Unknown target {target!r}."]})


def _public_line(report: Report, target: str, reason: str) -> str:
    with translation.override(report.language):
        where = {Redaction.Target.DESCRIPTION: gettext("from the description"),
                 Redaction.Target.ANSWER: gettext("from the answers"),
                 Redaction.Target.UPDATE: gettext("from an update"),
                 Redaction.Target.PHOTO: gettext("a photo")}[Redaction.Target(target)]
        return gettext("%(department)s removed %(where)s: %(reason)s") % {
            "department": report.department.name, "where": where, "reason": reason}


def _keep_until(report: Report, now: dt.datetime) -> dt.datetime:
    return now + dt.timedelta(days=report.municipality.redaction_keep_days)


def _finish(report: Report, redaction: Redaction, actor: User, fields: tuple[str, ...]) -> None:
    line = _public_line(report, redaction.target, redaction.reason)
    changes.record(report, kind=ReportEvent.Kind.REDACTED, actor=actor, public_text=line,
                   internal_text=f"Kept for staff until {redaction.keep_until:%Y-%m-%d}.",
                   fields=fields)
    if report.reporter_email:
        outbox.enqueue_reporter_redacted(report, line)


@transaction.atomic
def report_redact_text(*, actor: User, report_id: int, target: str, passage: str,
                       reason: str, event_id: int | None = None,
                       expected_version: int | None = None) -> Redaction:
    """Remove `passage` (as the citizen wrote it) from a report's description, answers or
    one of their updates, and from every copy of it."""
    reason = _reason(reason)
    passage = (passage or "").strip()
    if len(passage) < MIN_NEEDLE:
        raise InvalidInput("Some fields are invalid.", {"passage": [
            f"Copy the passage to remove (at least {MIN_NEEDLE} characters)."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    if passage not in _citizen_text(report, target, event_id):
        raise InvalidInput("Some fields are invalid.", {"passage": [
            "This passage is not in that text; copy it exactly."]})
    scrub_reports([report.pk], [passage], REMOVED)
    now = timezone.now()  # kept for staff after the scrub, which would take it too
    redaction = Redaction.objects.create(
        report=report, target=target, reason=reason, original=passage, actor=actor,
        event_id=event_id if target == Redaction.Target.UPDATE else None,
        created_at=now, keep_until=_keep_until(report, now))
    report.refresh_from_db(fields=["description", "public_description", "answers", "address"])
    # The public text again from the redacted original (the masking of what is left).
    report.public_description = mask_citizen_text(report.description)
    _finish(report, redaction, actor, ("public_description",))
    return redaction


@transaction.atomic
def report_redact_photo(*, actor: User, report_id: int, photo_id: int, reason: str,
                        expected_version: int | None = None) -> Redaction:
    """Take one photo off every public output at once; its files are kept for staff until
    the purge deletes them."""
    reason = _reason(reason)
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    photo = report.photos.filter(pk=photo_id).first()
    if photo is None:
        raise InvalidInput("Some fields are invalid.", {"photo": ["No such photo."]})
    if Redaction.objects.filter(photo=photo).exists():
        raise Conflict("This photo is removed already.")
    photo.public = False
    photo.save(update_fields=["public"])
    now = timezone.now()
    redaction = Redaction.objects.create(
        report=report, target=Redaction.Target.PHOTO, photo=photo, reason=reason, actor=actor,
        created_at=now, keep_until=_keep_until(report, now))
    # Mails and payloads waiting in the outbox list the photo's address: not any more.
    scrub_reports([report.pk], [photo.url, photo.thumbnail_url], REMOVED)
    _finish(report, redaction, actor, ())
    return redaction


def _delete_files(photo: Photo) -> int:
    deleted = 0
    for name in (photo.image, photo.thumbnail):
        if name and default_storage.exists(name):
            default_storage.delete(name)
            deleted += 1
    return deleted


def redactions_purge(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Purge the redactions whose keeping time is over: the passage from the Redaction row
    (and once more from every copy, in case one was written since), a photo's files and
    row; one deletion-log row each. How many were purged."""
    now = now or timezone.now()
    purged = 0
    due = list(Redaction.objects.filter(purged_at__isnull=True, keep_until__lte=now)
               .values_list("pk", flat=True)[:limit])
    for redaction_id in due:
        with transaction.atomic():
            redaction = (Redaction.objects.select_for_update(skip_locked=True, of=("self",))
                         .select_related("report", "photo").filter(
                             pk=redaction_id, purged_at__isnull=True).first())
            if redaction is None:
                continue
            removed: dict[str, int] = {}
            if redaction.original:
                changed = scrub_reports([redaction.report_id], [redaction.original], REMOVED)
                removed = {"text": 1, **{f"copies.{t}": n for t, n in changed.items()}}
            if redaction.photo is not None:
                # Files first: if the row's delete then fails, the next purge deletes it.
                removed = {"photo": 1, "files": _delete_files(redaction.photo)}
                redaction.photo.delete()
                redaction.photo = None
            redaction.original, redaction.purged_at = "", now
            redaction.save(update_fields=["original", "purged_at", "photo"])
            DeletionLog.objects.create(
                at=now, reason=DeletionLog.Reason.REDACTION, report_id=redaction.report_id,
                municipality_id=redaction.report.municipality_id, removed=removed,
                rule=f"Redaction #{redaction.pk} kept "
                     f"{redaction.report.municipality.redaction_keep_days} days")
            purged += 1
    return purged
