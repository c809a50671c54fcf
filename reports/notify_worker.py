"""The notification worker: claims due rows with SELECT … FOR UPDATE SKIP LOCKED (so any
number of workers can run without sending anything twice), delivers them, and records the
outcome with exponential backoff and a maximum number of attempts.

A claimed row is leased for NOTIFY_LEASE_SECONDS; if its worker dies mid-delivery, another
worker takes it over after the lease. A delivery that succeeded but whose worker died before
recording it is therefore sent again (at least once, never lost)."""

from __future__ import annotations

import datetime as dt
import json
import logging
import time
import urllib.error
import urllib.request

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from reports.models import Notification
from reports.notify import EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

log = logging.getLogger(__name__)
State = Notification.State


class DeliveryFailed(Exception):
    def __init__(self, message: str, response_code: int | None = None):
        super().__init__(message)
        self.response_code = response_code


def claim(batch: int = 20) -> list[Notification]:
    """Lease up to `batch` due notifications to this worker."""
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            Notification.objects.select_for_update(skip_locked=True)
            .filter(Q(state=State.PENDING, next_attempt_at__lte=now)
                    | Q(state=State.SENDING, lease_until__lt=now))
            .order_by("next_attempt_at", "id")[:batch]
        )
        ids = [row.pk for row in rows]
        Notification.objects.filter(pk__in=ids).update(
            state=State.SENDING, attempts=F("attempts") + 1,
            lease_until=now + dt.timedelta(seconds=settings.NOTIFY_LEASE_SECONDS))
    return list(Notification.objects.filter(pk__in=ids).select_related("webhook")
                .order_by("next_attempt_at", "id"))


def _send_email(row: Notification) -> int | None:
    message = EmailMultiAlternatives(row.subject, row.body_text, to=[row.recipient],
                                     headers=row.headers or None)
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
    request = urllib.request.Request(row.recipient, data=body, method="POST", headers={
        "Content-Type": "application/json", "User-Agent": "OS2geo-webhook/1",
        TIMESTAMP_HEADER: timestamp, EVENT_HEADER: row.event,
        SIGNATURE_HEADER: sign(row.webhook.secret if row.webhook else "", timestamp, body),
    })
    try:
        with urllib.request.urlopen(request, timeout=settings.WEBHOOK_TIMEOUT_SECONDS) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        raise DeliveryFailed(f"HTTP {exc.code}", exc.code) from exc
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        raise DeliveryFailed(f"{type(exc).__name__}: {getattr(exc, 'reason', exc)}") from exc


def backoff(attempts: int) -> dt.timedelta:
    seconds = settings.NOTIFY_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)
    return dt.timedelta(seconds=min(seconds, settings.NOTIFY_MAX_BACKOFF_SECONDS))


def deliver(row: Notification) -> bool:
    """Try one claimed notification and record the outcome; True when delivered."""
    try:
        code = _send_email(row) if row.channel == Notification.Channel.EMAIL else \
            _send_webhook(row)
    except DeliveryFailed as exc:
        dead = row.attempts >= settings.NOTIFY_MAX_ATTEMPTS
        Notification.objects.filter(pk=row.pk).update(
            state=State.DEAD if dead else State.PENDING, lease_until=None,
            last_error=str(exc)[:2000], last_response_code=exc.response_code,
            next_attempt_at=timezone.now() + backoff(row.attempts))
        log.warning("notification %s failed (attempt %s): %s", row.pk, row.attempts, exc)
        return False
    Notification.objects.filter(pk=row.pk).update(
        state=State.SENT, sent_at=timezone.now(), lease_until=None, last_error="",
        last_response_code=code)
    return True


def run_once(batch: int = 20) -> tuple[int, int]:
    """Deliver what is due now; (delivered, failed)."""
    delivered = failed = 0
    while rows := claim(batch):
        for row in rows:
            if deliver(row):
                delivered += 1
            else:
                failed += 1
    return delivered, failed


def notification_retry(*, notification_ids: list[int]) -> int:
    """Admin "retry now": due immediately, with a fresh set of attempts."""
    return Notification.objects.filter(pk__in=notification_ids).exclude(
        state=State.SENT).update(state=State.PENDING, attempts=0, lease_until=None,
                                 next_attempt_at=timezone.now())
