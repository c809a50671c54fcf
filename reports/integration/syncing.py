"""Status back from destinations: a poll of their updates (mySociety's
`servicerequestupdates`, or `requests` with `updated_after` for servers without it), each
update applied once, in order, never over a newer one.

- Once: every update read is kept by (destination, their update id) in the transaction
  that applies it; a second read of it (the next poll's overlap, a second worker) skips.
- In order: a poll sorts what it read by (updated_datetime, update id).
- Never stale: a case keeps the time of the newest update applied to it; an older one is
  recorded as stale and changes nothing.
- Their statuses map to ours through the destination's table (Destination.our_status).
  GeoReport's bare `open`/`closed` only move a report whose open/closed-ness differs (a
  `closed` reply on a rejected report leaves it rejected, not resolved).
- A move the lifecycle does not allow directly (resolved to in progress) goes through
  `acknowledged`, the lifecycle's reopening, so the timeline shows both steps.

The worker polls every DESTINATION_POLL_SECONDS; `manage.py reports_sync_destinations`
runs one poll by hand and prints the report of each run (fetched, applied, skipped, failed).
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from dataclasses import asdict, dataclass, field

from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from reports import changes
from reports.integration import client, sending
from reports.lifecycle import NEEDS_PUBLIC_TEXT, Status, can_transition, open311_status
from reports.models import Destination, ExternalCase, ExternalUpdate, ReportEvent
from reports.notifications import outbox
from reports.open311.formats import iso
from reports.privacy import mask_identity_numbers
from reports.services.transitions import transition_locked

log = logging.getLogger(__name__)

# Each poll reads again from a little before the newest update it saw: a back office
# whose clock or commit order lags does not lose an update to the window's edge.
OVERLAP = dt.timedelta(minutes=5)
FIRST_POLL = dt.timedelta(days=1)
PAGE_SIZE = 1000
MAX_PAGES = 50
# Times on the wire are whole seconds: the window's end is a little ahead of our clock, so
# that an update made in the second of the poll is not cut off.
AHEAD = dt.timedelta(seconds=60)


@dataclass
class SyncRun:
    destination: str
    fetched: int = 0
    applied: int = 0
    skipped: int = 0
    failed: int = 0
    tokens_resolved: int = 0
    errors: list[str] = field(default_factory=list)

    def line(self) -> str:
        text = (f"{self.destination}: fetched {self.fetched}, applied {self.applied}, "
                f"skipped {self.skipped}, failed {self.failed}")
        if self.tokens_resolved:
            text += f", tokens resolved {self.tokens_resolved}"
        return text + (f" ({'; '.join(self.errors[:3])})" if self.errors else "")


@dataclass(frozen=True)
class Update:
    """One of their updates, as read."""

    update_id: str
    service_request_id: str
    status: str
    detailed_status: str
    updated_at: dt.datetime
    description: str


def _parse(item: dict) -> Update | None:
    if not isinstance(item, dict):
        return None
    updated_at = parse_datetime(str(item.get("updated_datetime") or ""))
    if not item.get("update_id") or not item.get("service_request_id") or updated_at is None:
        return None
    if timezone.is_naive(updated_at):
        updated_at = timezone.make_aware(updated_at)
    return Update(update_id=str(item["update_id"]),
                  service_request_id=str(item["service_request_id"]),
                  status=str(item.get("status") or ""),
                  detailed_status=str(item.get("external_status_code") or ""),
                  updated_at=updated_at, description=str(item.get("description") or ""))


def _target(destination: Destination, update: Update, current: str) -> str | None:
    """Our status for their update on a report that is `current` (None: no move)."""
    for theirs in (update.detailed_status, update.status):
        if not theirs:
            continue
        known, ours = destination.our_status(theirs)
        if not known:
            continue
        if theirs.lower() in ("open", "closed") and open311_status(current) == theirs.lower():
            return None
        return ours
    return None


def _move(report, destination: Destination, to_status: str, text: str) -> ReportEvent:
    public = destination.updates_as == Destination.UpdatesAs.PUBLIC
    public_text = text if public else ""
    if to_status in NEEDS_PUBLIC_TEXT and not public_text:
        public_text = f"{destination.name}: {Status(to_status).label}"
    if not can_transition(report.status, to_status):
        transition_locked(report, to_status=Status.ACKNOWLEDGED, actor_label=destination.name,
                          internal_text=f"Reopened to follow {destination.name}.",
                          origin=destination)
    transition_locked(report, to_status=to_status, actor_label=destination.name,
                      public_text=public_text, internal_text="" if public else text,
                      origin=destination)
    return report.events.order_by("-id").first()


def apply_update(destination: Destination, update: Update) -> str:
    """Apply one update in its own transaction; its outcome ("applied", or why skipped)."""
    with transaction.atomic():
        if ExternalUpdate.objects.filter(destination=destination,
                                         update_id=update.update_id).exists():
            return "skipped: seen before"
        case = ExternalCase.objects.select_for_update().filter(
            destination=destination, service_request_id=update.service_request_id).first()
        if case is None:
            return "skipped: not a case of ours"
        kept = ExternalUpdate(destination=destination, update_id=update.update_id, case=case,
                              updated_at=update.updated_at,
                              status=update.detailed_status or update.status)
        if case.external_updated_at and update.updated_at < case.external_updated_at:
            kept.outcome = "skipped: older than the newest applied"
            kept.save()
            return kept.outcome
        report = changes.lock(case.report_id)
        text = update.description.strip()
        target = _target(destination, update, report.status)
        row = None
        if target is not None and target != report.status:
            row = _move(report, destination, target, text)
            kept.outcome = f"applied: {target}"
        elif text and destination.updates_as == Destination.UpdatesAs.PUBLIC:
            row = changes.record(report, kind=ReportEvent.Kind.PUBLIC_REPLY,
                                 actor_label=destination.name, public_text=text)
            outbox.enqueue_report_updated(report, public_text=mask_identity_numbers(text),
                                          status_changed=False, event=row, origin=destination)
            kept.outcome = "applied: reply"
        elif text:
            row = ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.INTERNAL_NOTE,
                                             actor_label=destination.name, internal_text=text)
            kept.outcome = "applied: note"
        else:
            kept.outcome = "applied: nothing to change"
        kept.event = row
        kept.save()
        case.external_status = kept.status[:100]
        case.external_updated_at = update.updated_at
        case.save(update_fields=["external_status", "external_updated_at"])
        return kept.outcome


def _read_updates(destination: Destination, since: dt.datetime, until: dt.datetime
                  ) -> list[Update]:
    found: dict[str, Update] = {}
    for _ in range(MAX_PAGES):
        answer = client.get(destination, "servicerequestupdates.json", {
            "start_date": iso(since) or "", "end_date": iso(until) or "",
            "page_size": str(PAGE_SIZE)})
        items = answer if isinstance(answer, list) else []
        page = [u for u in map(_parse, items) if u is not None]
        found.update({u.update_id: u for u in page})
        newest = max((u.updated_at for u in page), default=since)
        if len(items) < PAGE_SIZE or newest <= since:
            break
        since = newest  # the next page: from the newest time read (seen ones skip)
    return list(found.values())


def _read_requests(destination: Destination, since: dt.datetime, until: dt.datetime
                   ) -> list[Update]:
    """For servers without the updates feed: their requests changed since `since`, each
    turned into an update named by its id, time and status."""
    answer = client.get(destination, "requests.json", {
        "updated_after": iso(since) or "", "updated_before": iso(until) or "",
        "extensions": "true", "page_size": str(PAGE_SIZE)})
    updates = []
    for item in answer if isinstance(answer, list) else []:
        if not isinstance(item, dict):
            continue
        detailed = (item.get("extended_attributes") or {}).get("detailed_status") or ""
        status = detailed or item.get("status")
        parsed = _parse({**item, "external_status_code": detailed,
                         "description": item.get("status_notes") or "",
                         "update_id": f"request:{item.get('service_request_id')}:"
                                      f"{item.get('updated_datetime')}:{status}"})
        if parsed is not None:
            updates.append(parsed)
    return updates


# Tokens asked about per poll, and the poll stops asking at the first failure: the worker
# polls in its delivery loop, and a back office that hangs must cost it one deadline, not
# one per waiting case.
TOKENS_PER_POLL = 20


def _resolve_tokens(destination: Destination, run: SyncRun) -> None:
    waiting = ExternalCase.objects.filter(destination=destination,
                                          service_request_id="").exclude(token="")
    for case in waiting.order_by("id")[:TOKENS_PER_POLL]:
        try:
            if sending.resolve_token(case):
                run.tokens_resolved += 1
        except client.Open311Failed as exc:
            run.errors.append(f"token {case.token}: {exc}")
            return


def destination_sync(destination: Destination, *, now: dt.datetime | None = None
                     ) -> SyncRun | None:
    """One poll of one destination; None when another process is polling it right now."""
    run = SyncRun(destination=destination.name)
    key = zlib.crc32(f"os2geo-destination-sync-{destination.pk}".encode())
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            return None
    try:
        now = now or timezone.now()
        _resolve_tokens(destination, run)
        since = (destination.synced_until or now - FIRST_POLL) - OVERLAP
        updates: list[Update] = []
        if run.errors:  # it did not answer about a token: it is not asked for more now
            run.failed += 1
        else:
            try:
                read = _read_requests if destination.poll == Destination.Poll.REQUESTS \
                    else _read_updates
                updates = sorted(read(destination, since, now + AHEAD),
                                 key=lambda u: (u.updated_at, u.update_id))
            except client.Open311Failed as exc:
                run.failed += 1
                run.errors.append(str(exc)[:300])
        run.fetched = len(updates)
        synced_until = destination.synced_until
        failed_at = None
        for update in updates:
            try:
                outcome = apply_update(destination, update)
            except IntegrityError:
                outcome = "skipped: applied by another poll"
            except Exception as exc:  # one bad update must not stop the others
                log.exception("update %s from %s", update.update_id, destination)
                run.failed += 1
                run.errors.append(f"update {update.update_id}: {type(exc).__name__}: {exc}")
                failed_at = failed_at or update.updated_at
                continue
            if outcome.startswith("applied"):
                run.applied += 1
            else:
                run.skipped += 1
            if failed_at is None and (synced_until is None or update.updated_at > synced_until):
                synced_until = update.updated_at
        destination.synced_until = synced_until
        destination.last_sync_at = now
        destination.last_sync = {**asdict(run), "at": now.isoformat()}
        destination.save(update_fields=["synced_until", "last_sync_at", "last_sync"])
        return run
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])


def destinations_sync() -> list[SyncRun]:
    """One poll of every active destination that reads status back."""
    runs = []
    for destination in Destination.objects.filter(active=True).exclude(
            poll=Destination.Poll.NONE):
        run = destination_sync(destination)
        if run is not None:
            runs.append(run)
    return runs
