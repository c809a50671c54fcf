"""Citizens following reports and areas by mail (double opt-in) and the daily digests."""

from __future__ import annotations

import datetime as dt

from django.contrib.gis.geos import Point
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from geoservice.errors import (
    InvalidInput,
    NotFound,
)
from maps.models import Area
from reports import selectors
from reports.models import (
    AreaAlert,
    Report,
    Subscription,
)
from reports.notifications import links, outbox
from reports.services.filing import _language


@transaction.atomic
def report_follow(*, report_id: int, email: str, language: str = "da",
                  follow_up: bool = False) -> Subscription:
    """Ask to follow a report ("this is my problem too"): a confirmation mail is enqueued
    unless the address already follows it. Only public reports can be followed. With
    `follow_up`, the follower is asked "is it fixed?" too once it is resolved."""
    report = Report.objects.filter(pk=report_id, public=True).first()
    if report is None:
        raise NotFound(f"No report {report_id}.")
    email = email.strip().lower()
    subscription, _ = Subscription.objects.get_or_create(
        report=report, email=email, defaults={"language": _language(language)})
    if follow_up and not subscription.follow_up:
        subscription.follow_up = True
        subscription.save(update_fields=["follow_up"])
    if subscription.confirmed_at is None:
        outbox.enqueue_follow_confirmation(subscription)
    return subscription


def _confirmed[T: (Subscription, AreaAlert)](row: T) -> T:
    """The row confirmed, at its first confirmation (a link used again changes nothing)."""
    if row.confirmed_at is None:
        row.confirmed_at = timezone.now()
        row.save(update_fields=["confirmed_at"])
    return row


def subscription_confirm(*, token: str) -> Subscription:
    """Confirm a follow from its signed link (raises BadToken)."""
    subscription = Subscription.objects.filter(
        pk=links.read("follow-confirm", token)).select_related("report").first()
    if subscription is None:
        raise links.BadToken("This subscription no longer exists.")
    return _confirmed(subscription)


def subscription_unsubscribe(*, token: str) -> Report | None:
    """End a follow from its signed one-click link; idempotent (raises BadToken)."""
    subscription = Subscription.objects.filter(
        pk=links.read("follow-unsubscribe", token)).select_related("report").first()
    if subscription is None:
        return None  # already unsubscribed
    report = subscription.report
    subscription.delete()
    return report


@transaction.atomic
def alert_subscribe(*, email: str, area_id: int | None = None, location: Point | None = None,
                    radius_m: int | None = None, frequency: str = "immediate",
                    language: str = "da") -> AreaAlert:
    """Ask for mail about new reports in an area or circle; confirmed by mail first."""
    if (area_id is None) == (location is None):
        raise InvalidInput("Give an area or a point with a radius.",
                           {"area": ["Give either area or near + radius."]})
    if area_id is not None and not Area.objects.filter(pk=area_id).exists():
        raise InvalidInput("Unknown area.", {"area": [f"No area {area_id}."]})
    alert = AreaAlert.objects.create(
        email=email.strip().lower(), area_id=area_id, location=location,
        radius_m=radius_m if location is not None else None, frequency=frequency,
        language=_language(language))
    outbox.enqueue_alert_confirmation(alert)
    return alert


def alert_confirm(*, token: str) -> AreaAlert:
    alert = AreaAlert.objects.filter(pk=links.read("alert-confirm", token)).first()
    if alert is None:
        raise links.BadToken("This alert no longer exists.")
    return _confirmed(alert)


def alert_unsubscribe(*, token: str) -> None:
    AreaAlert.objects.filter(pk=links.read("alert-unsubscribe", token)).delete()


def alerts_send_digests() -> int:
    """Enqueue the daily digests that are due; several workers may call it at once."""
    now = timezone.now()
    sent = 0
    due = Q(last_digest_at__lte=now - dt.timedelta(days=1)) | Q(
        last_digest_at__isnull=True, confirmed_at__lte=now - dt.timedelta(days=1))
    with transaction.atomic():
        alerts = list(AreaAlert.objects.select_for_update(skip_locked=True, of=("self",)).filter(
            due, frequency=AreaAlert.Frequency.DAILY, confirmed_at__isnull=False)
            .select_related("area")[:500])
        for alert in alerts:
            # Confirmed alerts only (the filter above): confirmed_at is set.
            since = alert.last_digest_at or alert.confirmed_at or now
            reports = selectors.public_reports_for_alert(alert, since)
            if reports:
                outbox.enqueue_alert_digest(alert, reports)
                sent += 1
            alert.last_digest_at = now
            alert.save(update_fields=["last_digest_at"])
    return sent
