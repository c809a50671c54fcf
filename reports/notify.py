"""Notifications: what to send when a report is filed or changes, enqueued durably.

Services call these inside their transaction, so a notification is stored exactly when the
change is (a transactional outbox; reports.notify_worker delivers). The content is rendered
at enqueue time: the mail says what was true when the change happened.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone

from reports import selectors, subscriptions
from reports.models import Notification, Report, Subscription, Webhook

SIGNATURE_HEADER = "X-OS2geo-Signature"
TIMESTAMP_HEADER = "X-OS2geo-Timestamp"
EVENT_HEADER = "X-OS2geo-Event"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """`sha256=<hex>` of HMAC-SHA256 over "<timestamp>.<body>" (the timestamp stops replays)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, timestamp: str, body: bytes, signature: str,
           *, max_age_seconds: int = 300) -> bool:
    """What a receiving system does: check the signature and that the timestamp is fresh."""
    try:
        age = abs(timezone.now().timestamp() - int(timestamp))
    except ValueError:
        return False
    return age <= max_age_seconds and hmac.compare_digest(sign(secret, timestamp, body),
                                                           signature)


def _links(report: Report) -> dict:
    return {
        "public_url": f"{settings.SITE_URL}/reports/{report.pk}",
        "api_url": f"{settings.SITE_URL}/api/v1/reports/{report.pk}/",
        "staff_url": f"{settings.SITE_URL}/admin/reports/report/{report.pk}/change/",
        "map_url": (f"https://www.openstreetmap.org/?mlat={report.location.y:.6f}"
                    f"&mlon={report.location.x:.6f}#map=18/{report.location.y:.6f}/"
                    f"{report.location.x:.6f}"),
    }


def _mail(event: str, template: str, recipient: str, report: Report, subject: str,
          *, subscription_id: int | None = None, **context) -> Notification:
    """A mail; to a follower it carries a signed one-click unsubscribe link (in the text and
    as List-Unsubscribe headers, RFC 8058)."""
    headers = {}
    if subscription_id is not None:
        context["unsubscribe_url"] = subscriptions.unsubscribe_url(subscription_id)
        headers = {"List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    context = {"report": report, "photos": list(report.photos.all()), **_links(report),
               **context}
    return Notification(
        channel=Notification.Channel.EMAIL, event=event, report=report, recipient=recipient,
        subject=subject[:300], headers=headers,
        body_text=render_to_string(f"reports/mail/{template}.txt", context),
        body_html=render_to_string(f"reports/mail/{template}.html", context),
    )


def _webhooks(event: str, report: Report) -> list[Notification]:
    hooks = Webhook.objects.filter(municipality_id=report.municipality_id, active=True)
    feature = json.loads(selectors.public_feature(report.pk))
    payload = {"event": event, "report_id": report.pk, "version": report.version,
               "occurred_at": timezone.now().isoformat(), "report": feature,
               "department": {"id": report.department_id, "name": report.department.name}}
    return [
        Notification(channel=Notification.Channel.WEBHOOK, event=event, report=report,
                     webhook=hook, recipient=hook.url, payload=payload)
        for hook in hooks
        if (hook.department_id in (None, report.department_id))
        and (not hook.event_types or event in hook.event_types)
    ]


def enqueue_report_created(report: Report, *, reporter_subscription: Subscription | None
                           ) -> None:
    """Department mail, reporter receipt and webhooks for a new report."""
    rows = []
    if report.department.email:
        rows.append(_mail("department.new_report", "department_new_report",
                          report.department.email, report,
                          f"Ny henvendelse #{report.pk}: {report.category.name}"))
    if reporter_subscription is not None:
        rows.append(_mail("reporter.receipt", "reporter_receipt", reporter_subscription.email,
                          report, f"Tak for din henvendelse (#{report.pk})",
                          subscription_id=reporter_subscription.pk))
    rows += _webhooks("report.created", report)
    Notification.objects.bulk_create(rows)


def enqueue_report_updated(report: Report, *, public_text: str, status_changed: bool) -> None:
    """Mail to every confirmed follower on a public status change or reply, and webhooks."""
    rows = []
    if status_changed or public_text:
        for follower in report.followers.filter(confirmed_at__isnull=False):
            rows.append(_mail("follower.update", "reporter_update", follower.email, report,
                              f"Nyt om henvendelse #{report.pk}", public_text=public_text,
                              subscription_id=follower.pk))
    rows += _webhooks("report.updated", report)
    Notification.objects.bulk_create(rows)


def enqueue_follow_confirmation(subscription: Subscription) -> None:
    report = subscription.report
    Notification.objects.create(
        channel=Notification.Channel.EMAIL, event="follower.confirm", report=report,
        recipient=subscription.email, subject=f"Bekræft at du vil følge henvendelse #{report.pk}",
        body_text=render_to_string("reports/mail/follow_confirm.txt", {
            "report": report, "confirm_url": subscriptions.confirm_url(subscription.pk),
            "hours": settings.SUBSCRIPTION_CONFIRM_HOURS, **_links(report)}),
        body_html=render_to_string("reports/mail/follow_confirm.html", {
            "report": report, "confirm_url": subscriptions.confirm_url(subscription.pk),
            "hours": settings.SUBSCRIPTION_CONFIRM_HOURS, **_links(report)}),
    )


def enqueue_report_confirmation(report: Report) -> None:
    """The mail with the link that publishes a web report."""
    context = {"report": report, "confirm_url": subscriptions.report_confirm_url(report.pk),
               "hours": settings.REPORT_CONFIRM_HOURS}
    Notification.objects.create(
        channel=Notification.Channel.EMAIL, event="reporter.confirm", report=report,
        recipient=report.reporter_email, subject=f"Bekræft din henvendelse #{report.pk}",
        body_text=render_to_string("reports/mail/report_confirm.txt", context),
        body_html=render_to_string("reports/mail/report_confirm.html", context),
    )
