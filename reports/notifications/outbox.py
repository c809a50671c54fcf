"""Notifications: what to send when a report is filed or changes, enqueued durably.

Services call these inside their transaction, so a notification is stored exactly when the
change is (a transactional outbox; reports.notifications.worker delivers). A mail is stored
as its template, its recipient's language and a JSON snapshot of what the template shows
(taken at enqueue time: the mail says what was true when the change happened); the worker
renders it at its first attempt (`render`), so that a request does not spend its time on
templates, however many followers a report has.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext, gettext_noop

from reports import selectors
from reports.integration import sending
from reports.lifecycle import Status
from reports.models import (
    AreaAlert,
    Destination,
    Notification,
    Report,
    ReportEvent,
    Subscription,
    Webhook,
)
from reports.notifications import links

SIGNATURE_HEADER = "X-OS2geo-Signature"
TIMESTAMP_HEADER = "X-OS2geo-Timestamp"
EVENT_HEADER = "X-OS2geo-Event"
# The same on every attempt of one notification: a receiver drops a delivery id it has seen.
DELIVERY_HEADER = "X-OS2geo-Delivery"


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
        # A private report has no public page: its reporter's mails link to a private one.
        "public_url": f"{settings.SITE_URL}/reports/{report.pk}" if not report.private
        else links.url("report-view", report.pk),
        "api_url": f"{settings.SITE_URL}/api/v1/reports/{report.pk}/",
        "staff_url": f"{settings.SITE_URL}/admin/reports/report/{report.pk}/change/",
        "map_url": (f"https://www.openstreetmap.org/?mlat={report.location.y:.6f}"
                    f"&mlon={report.location.x:.6f}#map=18/{report.location.y:.6f}/"
                    f"{report.location.x:.6f}"),
    }


def _report_snapshot(report: Report) -> dict:
    """What the mail templates show of a report, as JSON (`report.…` in the templates)."""
    return {
        "pk": report.pk, "status": report.status, "address": report.address,
        "description": report.description, "public_description": report.public_description,
        "reporter_name": report.reporter_name, "reporter_email": report.reporter_email,
        "reporter_phone": report.reporter_phone,
        "routing_explanation": report.routing_explanation,
        "category": {"name": report.category.name,
                     "kle": {"number": report.category.kle.number,
                             "title": report.category.kle.title}},
        "department": {"name": report.department.name if report.department_id else ""},
        # Who has it, as the citizen is told: a body other than the municipality, or the
        # department.
        "handled_by": report.responsible_body.name if report.responsible_body else "",
    }


def _alert_snapshot(alert: AreaAlert) -> dict:
    return {"frequency": alert.frequency, "radius_m": alert.radius_m,
            "area": {"name": alert.area.name} if alert.area is not None else None}


def _email(event: str, template: str, recipient: str, subject: str, *, language: str,
           report: Report | None, context: dict, headers: dict | None = None
           ) -> Notification:
    """A mail row: the subject now (cheap), the body by the worker from `context`."""
    return Notification(
        channel=Notification.Channel.EMAIL, event=event, report=report, recipient=recipient,
        subject=subject, headers=headers or {}, template=template, language=language,
        context=context)


def _with_labels(report: dict) -> dict:
    # The status as the recipient reads it: looked up while their language is active.
    return {**report, "get_status_display": str(Status(report["status"]).label)}


def render(row: Notification) -> tuple[str, str]:
    """(text, html) of a stored mail, in its recipient's language."""
    context = dict(row.context or {})
    with translation.override(row.language or settings.LANGUAGE_CODE):
        if context.get("report"):
            context["report"] = _with_labels(context["report"])
        if context.get("reports"):
            context["reports"] = [_with_labels(report) for report in context["reports"]]
        return (render_to_string(f"reports/mail/{row.template}.txt", context),
                render_to_string(f"reports/mail/{row.template}.html", context))


def _subject(message: str, language: str, **values) -> str:
    with translation.override(language):
        return (gettext(message) % values)[:300]


def _mail(event: str, template: str, recipient: str, report: Report, subject: str,
          *, language: str, subscription_id: int | None = None, **context) -> Notification:
    """A mail about a report; to a follower it carries a signed one-click unsubscribe link
    (in the text and as List-Unsubscribe headers, RFC 8058)."""
    headers = {}
    if subscription_id is not None:
        context["unsubscribe_url"] = links.url("follow-unsubscribe", subscription_id)
        headers = {"List-Unsubscribe": f"<{context['unsubscribe_url']}>",
                   "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    context = {"report": _report_snapshot(report),
               "photos": [{"url": photo.url, "thumbnail_url": photo.thumbnail_url}
                          for photo in report.photos.filter(public=True)],
               **_links(report), **context}
    return _email(event, template, recipient,
                  _subject(subject, language, id=report.pk, category=report.category.name),
                  language=language, report=report, context=context, headers=headers)


def _webhooks(event: str, report: Report) -> list[Notification]:
    """Calls to the back-office systems that want this event. A report that is not public
    (hidden by staff, not yet confirmed) is announced as such, with no public feature: the
    back office hears of staff work on it without the public details."""
    hooks = [hook for hook in Webhook.objects.filter(municipality_id=report.municipality_id,
                                                     active=True)
             if (hook.department_id in (None, report.department_id))
             and (not hook.event_types or event in hook.event_types)]
    if not hooks:
        return []
    feature_json = selectors.public_feature(report.pk)
    payload = {"event": event, "report_id": report.pk, "version": report.version,
               "occurred_at": timezone.now().isoformat(), "public": feature_json is not None,
               "report": json.loads(feature_json) if feature_json else None,
               "status": report.status,
               "department": {"id": report.department_id, "name": report.department.name}}
    return [
        Notification(channel=Notification.Channel.WEBHOOK, event=event, report=report,
                     webhook=hook, recipient=hook.url, payload=payload)
        for hook in hooks
    ]


def enqueue_report_created(report: Report, *, reporter_subscription: Subscription | None
                           ) -> None:
    """Department mail, reporter receipt and webhooks for a new report."""
    rows = []
    if report.department.email:
        rows.append(_mail("department.new_report", "department_new_report",
                          report.department.email, report,
                          gettext_noop("New report #%(id)s: %(category)s"),
                          language=settings.LANGUAGE_CODE))
    if reporter_subscription is not None:
        rows.append(_mail("reporter.receipt", "reporter_receipt", reporter_subscription.email,
                          report, gettext_noop("Thank you for your report (#%(id)s)"),
                          language=reporter_subscription.language,
                          subscription_id=reporter_subscription.pk))
    rows += _webhooks("report.created", report)
    rows += sending.enqueue_requests(report)
    Notification.objects.bulk_create(rows)


def enqueue_report_routed(report: Report) -> None:
    """The department mail again, to the department a report was re-routed to."""
    if report.department.email:
        Notification.objects.bulk_create([_mail(
            "department.new_report", "department_new_report", report.department.email, report,
            gettext_noop("New report #%(id)s: %(category)s"), language=settings.LANGUAGE_CODE)])
    Notification.objects.bulk_create(_webhooks("report.updated", report)
                                     + sending.enqueue_requests(report))


def enqueue_report_updated(report: Report, *, public_text: str, status_changed: bool,
                           event: ReportEvent | None = None,
                           origin: Destination | None = None) -> None:
    """Mail to every confirmed follower on a public status change or reply, webhooks, and
    the update (`event`) to the destinations holding a case of the report, except the
    `origin` it came from. Followers hear nothing of a report that is not public (hidden
    by staff)."""
    rows = []
    followers = report.followers.filter(confirmed_at__isnull=False)
    if report.private and not report.hidden:  # the reporter only, by their private link
        followers = followers.filter(email=report.reporter_email.lower()) \
            if report.reporter_email else followers.none()
    elif not report.public:
        followers = followers.none()
    if status_changed or public_text:
        for follower in followers:
            rows.append(_mail("follower.update", "reporter_update", follower.email, report,
                              gettext_noop("News about report #%(id)s"),
                              language=follower.language, public_text=public_text,
                              subscription_id=follower.pk))
    rows += _webhooks("report.updated", report)
    if event is not None and report.announced_at is not None:
        rows += sending.enqueue_update(report, event, origin=origin)
    Notification.objects.bulk_create(rows)


# Confirmation mails (follow, alert) that one address gets in an hour at most: anyone can
# ask OS2geo to mail an address, and must not be able to flood someone's inbox with it.
CONFIRMATIONS_PER_ADDRESS_PER_HOUR = 3
CONFIRMATION_EVENTS = ("follower.confirm", "alert.confirm", "my_reports.link")


def _confirmations_allowed(recipient: str) -> bool:
    since = timezone.now() - dt.timedelta(hours=1)
    return Notification.objects.filter(
        recipient=recipient, event__in=CONFIRMATION_EVENTS,
        created_at__gte=since).count() < CONFIRMATIONS_PER_ADDRESS_PER_HOUR


def _confirmation(event: str, template: str, recipient: str, subject: str, language: str,
                  report: Report | None = None, **context) -> Notification | None:
    if event in CONFIRMATION_EVENTS and not _confirmations_allowed(recipient):
        return None  # the caller's answer is the same: nothing tells who asked too often
    if "alert" in context:
        context["alert"] = _alert_snapshot(context["alert"])
    row = _email(event, template, recipient,
                 _subject(subject, language, id=report.pk if report else ""),
                 language=language, report=report,
                 context={"report": _report_snapshot(report) if report else None, **context})
    row.save()
    return row


def enqueue_follow_confirmation(subscription: Subscription) -> None:
    report = subscription.report
    _confirmation("follower.confirm", "follow_confirm", subscription.email,
                  gettext_noop("Confirm that you want to follow report #%(id)s"),
                  subscription.language, report=report,
                  confirm_url=links.url("follow-confirm", subscription.pk),
                  hours=settings.SUBSCRIPTION_CONFIRM_HOURS, **_links(report))


def enqueue_report_confirmation(report: Report) -> None:
    """The mail with the link that publishes a web report."""
    _confirmation("reporter.confirm", "report_confirm", report.reporter_email,
                  gettext_noop("Confirm your report #%(id)s"), report.language, report=report,
                  confirm_url=links.url("report-confirm", report.pk),
                  hours=settings.REPORT_CONFIRM_HOURS)


def enqueue_alert_confirmation(alert: AreaAlert) -> None:
    _confirmation("alert.confirm", "alert_confirm", alert.email,
                  gettext_noop("Confirm your neighbourhood alert"), alert.language,
                  alert=alert, confirm_url=links.url("alert-confirm", alert.pk),
                  hours=settings.SUBSCRIPTION_CONFIRM_HOURS)


def _alert_mail(alert: AreaAlert, reports: list[Report], event: str, subject: str
                ) -> Notification:
    unsubscribe = links.url("alert-unsubscribe", alert.pk)
    context = {"alert": _alert_snapshot(alert),
               "reports": [_report_snapshot(report) for report in reports],
               "unsubscribe_url": unsubscribe, "site_url": settings.SITE_URL}
    return _email(
        event, "alert", alert.email,
        _subject(subject, alert.language, count=len(reports), category=reports[0].category.name),
        language=alert.language, report=reports[0] if len(reports) == 1 else None,
        context=context,
        headers={"List-Unsubscribe": f"<{unsubscribe}>",
                 "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"})


def enqueue_alerts_for(report: Report) -> None:
    """Immediate area alerts for a report that just became public."""
    rows = [_alert_mail(alert, [report], "alert.new_report",
                        gettext_noop("New report in your area: %(category)s"))
            for alert in selectors.alerts_matching(report.location, immediate=True)]
    Notification.objects.bulk_create(rows)


def enqueue_alert_digest(alert: AreaAlert, reports: list[Report]) -> None:
    Notification.objects.bulk_create([_alert_mail(
        alert, reports, "alert.digest", gettext_noop("%(count)s new reports in your area"))])


def _when(value: dt.datetime, language: str) -> str:
    from django.utils import formats

    with translation.override(language):
        return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def enqueue_reporter_question(question, answer_url: str) -> None:
    """The question from staff, to the reporter, in their language."""
    report = question.report
    _email("reporter.question", "reporter_question", report.reporter_email,
           _subject(gettext_noop("A question about your report #%(id)s"), report.language,
                    id=report.pk),
           language=report.language, report=report,
           context={"report": _report_snapshot(report), "question": question.question,
                    "answer_url": answer_url,
                    "answer_by": _when(question.answer_by, report.language)}).save()


def enqueue_handover(handover, handover_url: str) -> None:
    """The case, to the external party: what the mail shows is public-level (no reporter
    contact); the page behind the link shows what staff chose to share."""
    report = handover.report
    snapshot = {key: value for key, value in _report_snapshot(report).items()
                if not key.startswith("reporter_")}
    _email("handover.sent", "handover", handover.email,
           _subject(gettext_noop("Case #%(id)s from %(municipality)s"), handover.language,
                    id=report.pk, municipality=report.municipality.name),
           language=handover.language, report=report,
           context={"report": snapshot, "instructions": handover.instructions,
                    "municipality": report.municipality.name, "handover_url": handover_url,
                    "expires": _when(handover.expires_at, handover.language)}).save()


def enqueue_my_reports_link(email: str, url: str, language: str) -> None:
    """The link to a citizen's own reports (counted with the confirmation mails: anyone can
    ask for it to any address)."""
    _confirmation("my_reports.link", "my_reports", email,
                  gettext_noop("Your reports"), language, my_reports_url=url,
                  hours=settings.MY_REPORTS_LINK_HOURS)


def enqueue_reporter_redacted(report: Report, line: str) -> None:
    """Tell the reporter that staff removed part of their report, and why."""
    _mail("reporter.redacted", "reporter_update", report.reporter_email, report,
          gettext_noop("Part of your report #%(id)s was removed"),
          language=report.language, public_text=line).save()


def enqueue_follow_up(follow_up, answer_url: str) -> None:
    """"Is it fixed?", some time after the report was resolved."""
    report = follow_up.report
    _mail("follow_up", "follow_up", follow_up.email, report,
          gettext_noop("Was the problem in report #%(id)s fixed?"),
          language=follow_up.language, answer_url=answer_url).save()
