"""Retention: a municipality's rules (reports.models.RetentionRule) say how long after a
report reached a final state its reporter's contact data and its photos are kept; the
worker's housekeeping then removes them, in batches, with a deletion-log row per report.

What "contact data" covers, and what is kept for the statistics and the archive:

- removed: the reporter's name, e-mail, phone, device and account ids; every follower of
  the report; the addresses and comments of its follow-ups (the answers stay for the
  statistics); the addresses, rendered bodies, snapshots and payloads of its mails and
  webhook calls (the rows stay: that a mail went, when and how); names and contact of the
  front ends' updates and the unmasked copies of their text; the reporter's words as staff
  saw them (the description becomes the public, masked one; answers to staff's questions
  are masked the same way); any copy of the name, address or number in the timeline;
- kept: place, category, department, status, channel, times, the masked public text, the
  public timeline.

`contact_remove` is set-based (a few statements per batch of reports), because the first
run over a municipality's archive meets years of reports at once (benchmarks/retention.py).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from reports.models import (
    REMOVED,
    DeletionLog,
    Photo,
    Report,
    ReporterQuestion,
    RetentionRule,
)
from reports.privacy import mask_citizen_text

BATCH = 1000


@dataclass
class RetentionRun:
    """What one run removed (or, dry, would remove), by rule: reports whose contact data
    went, reports whose photos went, and photo files."""

    dry_run: bool = False
    contact: dict[str, int] = field(default_factory=dict)
    photos: dict[str, int] = field(default_factory=dict)
    files: int = 0

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        return ([f"{rule}: {verb} the contact data of {n} reports"
                 for rule, n in self.contact.items() if n]
                + [f"{rule}: {verb} the photos of {n} reports"
                   for rule, n in self.photos.items() if n]
                + ([f"deleted {self.files} photo files"] if self.files else []))


def _due(rule: RetentionRule, what: str, now: dt.datetime) -> QuerySet[Report, int]:
    days = (rule.contact_days if what == "contact" else rule.photo_days) or 0
    done = "contact_removed_at" if what == "contact" else "photos_removed_at"
    return (Report.objects.filter(municipality_id=rule.municipality_id, status=rule.status,
                                  closed_at__lt=now - dt.timedelta(days=days),
                                  **{f"{done}__isnull": True})
            .order_by("pk").values_list("pk", flat=True))


def retention_run(*, now: dt.datetime | None = None, dry_run: bool = False,
                  limit: int | None = None) -> RetentionRun:
    """Apply every municipality's retention rules; with `limit`, at most that many reports
    per rule and kind this run (the worker's housekeeping comes back for the rest)."""
    now = now or timezone.now()
    run = RetentionRun(dry_run=dry_run)
    for rule in RetentionRule.objects.select_related("municipality"):
        for what in ("contact", "photos"):
            if (rule.contact_days if what == "contact" else rule.photo_days) is None:
                continue
            label = rule.describe(what)
            due = _due(rule, what, now)
            if dry_run:
                if what == "photos":
                    due = due.filter(photos__isnull=False).distinct()
                count = due.count()
                getattr(run, what)[label] = min(count, limit) if limit else count
                continue
            done = removed = 0
            while limit is None or done < limit:
                size = BATCH if limit is None else min(BATCH, limit - done)
                ids = list(due[:size])
                if not ids:
                    break
                if what == "contact":
                    removed += contact_remove(ids, now=now, reason=DeletionLog.Reason.RETENTION,
                                              rule=label)
                else:
                    with_photos, files = photos_remove(ids, now=now, rule=label)
                    removed += with_photos
                    run.files += files
                done += len(ids)
            getattr(run, what)[label] = removed
    return run


# Raw SQL below: one statement per table for a whole batch of reports (the ORM would read
# and write every row through Python). Each names the table it serves.

_COUNTS = """
    SELECT r.id, r.municipality_id,
           r.reporter_name <> '', r.reporter_email <> '', r.reporter_phone <> '',
           r.device_id <> '' OR r.account_id <> '',
           (SELECT count(*) FROM reports_subscription s WHERE s.report_id = r.id),
           (SELECT count(*) FROM reports_notification n WHERE n.report_id = r.id),
           (SELECT count(*) FROM reports_inboundupdate u WHERE u.report_id = r.id)
      FROM reports_report r WHERE r.id = ANY(%(ids)s)
"""

# The timeline: copies of the reporter's name, address and number go; a front end's update
# keeps its public (masked) text, not the staff-only copy that names who sent it.
_EVENTS = """
    UPDATE reports_reportevent e SET
        internal_text = CASE WHEN e.kind = 'citizen_update' THEN ''
            ELSE replace(replace(replace(e.internal_text,
                CASE WHEN length(r.reporter_email) >= 3 THEN r.reporter_email ELSE '' END,
                %(removed)s),
                CASE WHEN length(r.reporter_phone) >= 3 THEN r.reporter_phone ELSE '' END,
                %(removed)s),
                CASE WHEN length(r.reporter_name) >= 3 THEN r.reporter_name ELSE '' END,
                %(removed)s) END,
        public_text = replace(replace(e.public_text,
                CASE WHEN length(r.reporter_email) >= 3 THEN r.reporter_email ELSE '' END,
                %(removed)s),
                CASE WHEN length(r.reporter_name) >= 3 THEN r.reporter_name ELSE '' END,
                %(removed)s)
      FROM reports_report r
     WHERE e.report_id = r.id AND r.id = ANY(%(ids)s)
"""

# The outbox: what was never sent will not be; of the rest, the row stays without who it
# went to (unless a department) and without what it said.
_NOTIFICATIONS_PENDING = """
    DELETE FROM reports_notification
     WHERE report_id = ANY(%(ids)s) AND state IN ('pending', 'sending')
"""
_NOTIFICATIONS = """
    UPDATE reports_notification n SET
        recipient = CASE WHEN n.channel = 'email' AND NOT EXISTS (
                SELECT 1 FROM reports_department d WHERE lower(d.email) = lower(n.recipient))
            THEN %(removed)s ELSE n.recipient END,
        body_text = '', body_html = '', context = NULL, headers = '{}'::jsonb,
        payload = CASE WHEN n.channel = 'webhook' THEN NULL ELSE n.payload END,
        last_error = ''
     WHERE n.report_id = ANY(%(ids)s)
"""
_SUBSCRIPTIONS = "DELETE FROM reports_subscription WHERE report_id = ANY(%(ids)s)"
_INBOUND = """
    UPDATE reports_inboundupdate SET name = '', email = '', phone = ''
     WHERE report_id = ANY(%(ids)s)
"""
_FOLLOW_UPS = """
    UPDATE reports_followup SET email = '', comment = '' WHERE report_id = ANY(%(ids)s)
"""
_REPORTS = """
    UPDATE reports_report SET
        reporter_name = '', reporter_email = '', reporter_phone = '', device_id = '',
        account_id = '', description = public_description, contact_removed_at = %(now)s
     WHERE id = ANY(%(ids)s)
"""


@transaction.atomic
def contact_remove(report_ids: list[int], *, now: dt.datetime, reason: str, rule: str,
                   actor_id: int | None = None, subject_hash: str = "") -> int:
    """Remove the reporter's contact data and every copy of it from these reports (see the
    module's docstring), with one deletion-log row each. How many reports."""
    params: dict[str, Any] = {"ids": report_ids, "removed": REMOVED, "now": now}
    with connection.cursor() as cursor:
        # Serialise with every other writer of these reports.
        cursor.execute("SELECT id FROM reports_report WHERE id = ANY(%(ids)s) FOR UPDATE",
                       params)
        cursor.execute(_COUNTS, params)
        counts = cursor.fetchall()
        for statement in (_EVENTS, _NOTIFICATIONS_PENDING, _NOTIFICATIONS, _SUBSCRIPTIONS,
                          _INBOUND, _FOLLOW_UPS, _REPORTS):
            cursor.execute(statement, params)
    # The reporter's answers to staff's questions: few, masked like the public text.
    for question in ReporterQuestion.objects.filter(report_id__in=report_ids).exclude(
            answer=""):
        masked = mask_citizen_text(question.answer)
        if masked != question.answer:
            question.answer = masked
            question.save(update_fields=["answer"])
    logs = []
    for (report_id, municipality_id, name, email, phone, device, followers, mails,
         updates) in counts:
        removed = {key: 1 for key, present in (("name", name), ("email", email),
                                               ("phone", phone), ("device", device))
                   if present}
        removed |= {key: n for key, n in (("followers", followers), ("mail_copies", mails),
                                           ("update_contacts", updates)) if n}
        logs.append(DeletionLog(at=now, reason=reason, rule=rule, report_id=report_id,
                                municipality_id=municipality_id, removed=removed,
                                actor_id=actor_id, subject_hash=subject_hash))
    DeletionLog.objects.bulk_create(logs)
    return len(counts)


def photos_remove(report_ids: list[int], *, now: dt.datetime, rule: str) -> tuple[int, int]:
    """Delete every photo of these reports, files first (a failure after that leaves rows
    whose files are gone, which the next run deletes; never a file without a row), with one
    deletion-log row for each report that had any. (Reports that had photos, files.)"""
    files = 0
    with transaction.atomic():
        photos = list(Photo.objects.select_for_update().filter(report_id__in=report_ids))
        per_report: dict[int, int] = {}
        for photo in photos:
            for name in (photo.image, photo.thumbnail):
                if name and default_storage.exists(name):
                    default_storage.delete(name)
                    files += 1
            per_report[photo.report_id] = per_report.get(photo.report_id, 0) + 1
        Photo.objects.filter(pk__in=[p.pk for p in photos]).delete()
        municipalities = dict(Report.objects.filter(pk__in=report_ids)
                              .values_list("pk", "municipality_id"))
        Report.objects.filter(pk__in=report_ids).update(photos_removed_at=now)
        # Timeline rows of photos added ("Photo 800x600 added.") stay: they name no one.
        DeletionLog.objects.bulk_create([
            DeletionLog(at=now, reason=DeletionLog.Reason.RETENTION, rule=rule,
                        report_id=report_id, municipality_id=municipalities.get(report_id),
                        removed={"photos": per_report[report_id]})
            for report_id in report_ids if per_report.get(report_id)])
    return len(per_report), files
