"""The notification worker: claims due rows with SELECT … FOR UPDATE SKIP LOCKED (so any
number of workers can run without sending anything twice), delivers them, and records the
outcome with exponential backoff and a maximum number of attempts.

A claimed row is leased to one worker (`claimed_by`) for NOTIFY_LEASE_SECONDS, renewed just
before its delivery starts; if the worker dies mid-delivery, another worker takes the row
over after the lease. A delivery that succeeded but whose worker died before recording it
is therefore sent again (at least once, never lost): every attempt of a row carries the
row's `delivery_id` (X-OS2geo-Delivery on webhooks, the Message-ID of mails), so the
receiver recognises the replay.

Destinations do not wait for each other: a batch takes at most NOTIFY_PER_DESTINATION rows
per destination (the SMTP server, each webhook), and each destination's rows are delivered
in a thread of their own (NOTIFY_CONCURRENCY at once), so that a webhook that hangs until
its deadline delays its own deliveries, not every municipality's mail.

`serve` is the worker's loop: it outlives its dependencies. While the database is down it
waits and retries with backoff, saying once what it waits for; SMTP and HTTP failures are
failed attempts of single rows (retried later), never a reason to stop. SIGTERM (handled by
the management command) lets the delivery in hand finish, hands the rest of the batch back
and stops.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import InterfaceError, OperationalError, connection, connections, transaction
from django.db.models import F, Q
from django.utils import timezone

from reports.models import Notification
from reports.notifications import outbound
from reports.notifications.outbox import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    render,
    sign,
)

log = logging.getLogger(__name__)
State = Notification.State
DATABASE_DOWN = (OperationalError, InterfaceError)
# This process's name on the rows it claims (a restarted worker is a new one).
WORKER_ID = uuid.uuid4().hex


class DeliveryFailed(Exception):
    def __init__(self, message: str, response_code: int | None = None, *,
                 permanent: bool = False):
        super().__init__(message)
        self.response_code = response_code
        self.permanent = permanent


def _due(now) -> Q:
    return (Q(state=State.PENDING, next_attempt_at__lte=now)
            | Q(state=State.SENDING, lease_until__lt=now))


# The oldest due rows of each destination (the SMTP server, each webhook). Raw SQL: the
# ORM's window expressions cannot be filtered on in the same query; the locking happens in
# the ORM query after it (FOR UPDATE does not combine with window functions).
_FAIR_CANDIDATES = """
SELECT id FROM (
  SELECT id, next_attempt_at, row_number() OVER (
           PARTITION BY coalesce('webhook:' || webhook_id,
                                 'destination:' || destination_id, channel)
           ORDER BY next_attempt_at, id) AS place
  FROM reports_notification
  WHERE (state = 'pending' AND next_attempt_at <= %(now)s)
     OR (state = 'sending' AND lease_until < %(now)s)
) due WHERE place <= %(per_destination)s ORDER BY next_attempt_at, id LIMIT %(batch)s
"""


CANDIDATES_PER_ROW = 4


def claim(batch: int = 20, worker: str = WORKER_ID) -> list[Notification]:
    """Lease up to `batch` due notifications to `worker`, at most NOTIFY_PER_DESTINATION
    of any one destination."""
    now = timezone.now()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # More candidates than the batch: rows another worker is claiming right now are
            # skipped below, and the batch is filled from the rest.
            cursor.execute(_FAIR_CANDIDATES, {
                "now": now, "batch": batch * CANDIDATES_PER_ROW,
                "per_destination": settings.NOTIFY_PER_DESTINATION})
            candidates = [row[0] for row in cursor.fetchall()]
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(_due(now), pk__in=candidates)
            .order_by("next_attempt_at", "id")[:batch]
        )
        ids = [row.pk for row in rows]
        Notification.objects.filter(pk__in=ids).update(
            state=State.SENDING, attempts=F("attempts") + 1, claimed_by=worker,
            lease_until=now + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS))
    return list(Notification.objects.filter(pk__in=ids).select_related("webhook", "destination")
                .order_by("next_attempt_at", "id"))


def _renew(row: Notification, worker: str) -> bool:
    """Extend this worker's lease on a row just before delivering it; False when the lease
    ran out meanwhile and another worker has the row now."""
    return Notification.objects.filter(pk=row.pk, state=State.SENDING,
                                       claimed_by=worker).update(
        lease_until=timezone.now() + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS)) == 1


def release(rows: list[Notification], worker: str = WORKER_ID) -> int:
    """Hand claimed rows back undelivered (a stopping worker): due at once, the attempt
    not counted."""
    return Notification.objects.filter(
        pk__in=[row.pk for row in rows], state=State.SENDING, claimed_by=worker).update(
        state=State.PENDING, lease_until=None, claimed_by="", attempts=F("attempts") - 1,
        next_attempt_at=timezone.now())


def _render_once(row: Notification) -> None:
    """Render a mail enqueued as a template and keep the bodies (a retry sends the same)."""
    if not row.template or row.body_text:
        return
    try:
        row.body_text, row.body_html = render(row)
    except Exception as exc:  # a template that cannot render will not render next time
        raise DeliveryFailed(f"rendering {row.template}: {type(exc).__name__}: {exc}",
                             permanent=True) from exc
    Notification.objects.filter(pk=row.pk).update(body_text=row.body_text,
                                                   body_html=row.body_html)


def _send_email(row: Notification) -> int | None:
    _render_once(row)
    headers = {**(row.headers or {}), "Message-ID": f"<{row.delivery_id}@os2geo>"}
    message = EmailMultiAlternatives(row.subject, row.body_text, to=[row.recipient],
                                     headers=headers)
    if row.body_html:
        message.attach_alternative(row.body_html, "text/html")
    try:
        message.send()
    except Exception as exc:  # SMTP refusing, DNS, TLS: all mean "try again later"
        raise DeliveryFailed(f"{type(exc).__name__}: {exc}") from exc
    return None


def _send_webhook(row: Notification) -> int:
    body = json.dumps(row.payload, ensure_ascii=False, separators=(",", ":")).encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json", "User-Agent": "OS2geo-webhook/1",
        TIMESTAMP_HEADER: timestamp, EVENT_HEADER: row.event,
        DELIVERY_HEADER: str(row.delivery_id),
        SIGNATURE_HEADER: sign(row.webhook.secret if row.webhook else "", timestamp, body),
    }
    try:
        return outbound.post(row.recipient, body, headers)
    except outbound.OutboundRefused as exc:
        raise DeliveryFailed(str(exc), permanent=True) from exc
    except outbound.OutboundFailed as exc:
        raise DeliveryFailed(str(exc), exc.status) from exc


def _send_open311(row: Notification) -> None:
    from reports.integration import client, sending

    try:
        sending.deliver(row)
    except client.Open311Failed as exc:
        raise DeliveryFailed(str(exc), exc.status, permanent=exc.permanent) from exc
    except sending.NotYet as exc:
        raise DeliveryFailed(str(exc)) from exc


def backoff(attempts: int) -> dt.timedelta:
    seconds = settings.NOTIFY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.NOTIFY_MAX_BACKOFF_SECONDS))


def deliver(row: Notification, worker: str = WORKER_ID) -> bool | None:
    """Try one claimed notification and record the outcome; True when delivered, False when
    the attempt failed, None when the row is no longer this worker's."""
    if not _renew(row, worker):
        return None
    try:
        code: int | None
        if row.channel == Notification.Channel.EMAIL:
            code = _send_email(row)
        elif row.channel == Notification.Channel.OPEN311:
            _send_open311(row)
            code = None
        else:
            code = _send_webhook(row)
    except DeliveryFailed as exc:
        dead = exc.permanent or row.attempts >= settings.NOTIFY_MAX_ATTEMPTS
        Notification.objects.filter(pk=row.pk, claimed_by=worker).update(
            state=State.DEAD if dead else State.PENDING, lease_until=None, claimed_by="",
            last_error=str(exc)[:2000], last_response_code=exc.response_code,
            next_attempt_at=timezone.now() + backoff(row.attempts))
        log.warning("notification %s failed (attempt %s): %s", row.pk, row.attempts, exc)
        return False
    Notification.objects.filter(pk=row.pk, claimed_by=worker).update(
        state=State.SENT, sent_at=timezone.now(), lease_until=None, claimed_by="",
        last_error="", last_response_code=code)
    return True


def _destination(row: Notification) -> str:
    if row.webhook_id:
        return f"webhook:{row.webhook_id}"
    return f"destination:{row.destination_id}" if row.destination_id else row.channel


def _deliver_in_order(rows: list[Notification], stop: threading.Event | None,
                      worker: str) -> tuple[int, int]:
    """One destination's rows, one after another (in a thread of its own)."""
    delivered = failed = 0
    try:
        for index, row in enumerate(rows):
            if stop and stop.is_set():
                release(rows[index:], worker)
                break
            outcome = deliver(row, worker)
            if outcome:
                delivered += 1
            elif outcome is False:
                failed += 1
    finally:
        if threading.current_thread() is not threading.main_thread():
            connections.close_all()  # this thread's connections go back to the pool
    return delivered, failed


def run_once(batch: int = 20, *, stop: threading.Event | None = None,
             worker: str = WORKER_ID, seconds: float | None = None) -> tuple[int, int]:
    """Deliver what is due now; (delivered, failed). With `stop` set, the deliveries in
    hand finish and the rest of the batch goes back to the queue. With `seconds`, no new
    batch is claimed after that long (the loop's other chores get their turn)."""
    delivered = failed = 0
    until = None if seconds is None else time.monotonic() + seconds
    while not (stop and stop.is_set()) and not (until and time.monotonic() >= until) and (
            rows := claim(batch, worker)):
        by_destination: dict[str, list[Notification]] = {}
        for row in rows:
            by_destination.setdefault(_destination(row), []).append(row)
        groups = list(by_destination.values())
        # Side by side needs a connection per thread, which a caller's open transaction
        # (a test's) would not let see its rows: then one after another.
        if len(groups) == 1 or settings.NOTIFY_CONCURRENCY <= 1 or connection.in_atomic_block:
            results = [_deliver_in_order(group, stop, worker) for group in groups]
        else:
            with ThreadPoolExecutor(max_workers=settings.NOTIFY_CONCURRENCY) as pool:
                results = list(pool.map(lambda g: _deliver_in_order(g, stop, worker), groups))
        delivered += sum(d for d, _ in results)
        failed += sum(f for _, f in results)
    return delivered, failed


def housekeeping() -> list[str]:
    """The worker's periodic chores; what each did, for the log."""
    from reports.services import alerts_send_digests, reports_expire_unconfirmed
    from reports.services.casework import questions_expire
    from reports.services.followup import follow_ups_send
    from reports.services.moderation import redactions_purge
    from reports.services.retention import retention_run

    lines = []
    if expired := reports_expire_unconfirmed():
        lines.append(f"deleted {expired} unconfirmed reports")
    if digests := alerts_send_digests():
        lines.append(f"queued {digests} daily digests")
    if lapsed := questions_expire():
        lines.append(f"{lapsed} questions to reporters lapsed unanswered")
    if asked := follow_ups_send():
        lines.append(f"sent {asked} follow-ups (is it fixed?)")
    if purged := redactions_purge():
        lines.append(f"purged {purged} redactions past their keeping time")
    # Bounded: a municipality's first run meets years of archive; the rest comes next time.
    lines += retention_run(limit=RETENTION_PER_RUN).lines()
    return lines


def sync_destinations() -> list[str]:
    """Status back from the Open311 destinations; a line per run that read something."""
    from reports.integration import syncing

    return [run.line() for run in syncing.destinations_sync()
            if run.fetched or run.failed or run.tokens_resolved]


HOUSEKEEPING_SECONDS = 60
RETENTION_PER_RUN = 2000  # per rule and kind: about 0.6 s (benchmarks/retention.py: 3,556/s)
RUN_SECONDS = 5.0  # the longest the loop delivers before it looks at its other chores
MAX_WAIT_SECONDS = 5  # a retry every 5 s costs one connection attempt


def serve(*, stop: threading.Event, interval: float = 2.0, once: bool = False,
          say: Callable[[str], None] = print) -> None:
    """Deliver until `stop` is set, surviving database outages (see the module docstring)."""
    housekeeping_at = 0.0
    sync_at = 0.0
    wait = 1.0
    down_since: float | None = None
    heartbeat = settings.WORKER_HEARTBEAT_FILE
    while not stop.is_set():
        if heartbeat:  # for a container's health check: the loop is alive
            Path(heartbeat).touch()
        try:
            if time.monotonic() >= housekeeping_at:
                for line in housekeeping():
                    say(line)
                housekeeping_at = time.monotonic() + HOUSEKEEPING_SECONDS
            if time.monotonic() >= sync_at:
                for line in sync_destinations():
                    say(line)
                sync_at = time.monotonic() + settings.DESTINATION_POLL_SECONDS
            # Bounded: a backlog, or a receiver that keeps failing with a short backoff,
            # must not hold off the polls and housekeeping (it held the status poll for
            # minutes in benchmarks/backoffice.py).
            started = time.monotonic()
            delivered, failed = run_once(stop=stop, seconds=RUN_SECONDS)
            busy = time.monotonic() - started >= RUN_SECONDS  # more may be due at once
        except DATABASE_DOWN as exc:
            if once:
                raise
            for connection in connections.all():
                connection.close()  # a broken connection goes back to the pool and is dropped
            if down_since is None:
                down_since = time.monotonic()
                say(f"waiting for the database ({type(exc).__name__}: "
                    f"{str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ''})")
            stop.wait(wait)
            wait = min(wait * 2, MAX_WAIT_SECONDS)
            continue
        if down_since is not None:
            say(f"the database is back after {time.monotonic() - down_since:.0f} s; "
                "delivering again")
            down_since, wait = None, 1.0
        if delivered or failed:
            say(f"delivered {delivered}, failed {failed}")
        if once:
            return
        if not busy:
            stop.wait(interval)


def notification_retry(*, notification_ids: list[int]) -> int:
    """Admin "retry now": due immediately, with a fresh set of attempts."""
    return Notification.objects.filter(pk__in=notification_ids).exclude(
        state=State.SENT).update(state=State.PENDING, attempts=0, lease_until=None,
                                 claimed_by="", next_attempt_at=timezone.now())
