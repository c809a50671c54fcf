"""Signed links in mails: confirming a follow, an area alert or a web report (double
opt-in; they expire) and one-click unsubscribing (they never expire, so that an old mail's
link still works). One salt per kind, so a link of one kind never works as another."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

# kind → (path, setting naming the validity in hours, or None for links that never expire)
KINDS = {
    "follow-confirm": ("/subscriptions/confirm/", "SUBSCRIPTION_CONFIRM_HOURS"),
    "follow-unsubscribe": ("/subscriptions/unsubscribe/", None),
    "alert-confirm": ("/alerts/confirm/", "SUBSCRIPTION_CONFIRM_HOURS"),
    "alert-unsubscribe": ("/alerts/unsubscribe/", None),
    "report-confirm": ("/reports/confirm/", "REPORT_CONFIRM_HOURS"),
    # These two live as long as what they name (the question's answer_by, the handover's
    # expires_at): the services check that, so staff can end one early.
    "question-answer": ("/questions/", None),
    "handover": ("/handovers/", None),
    # "Is it fixed?": one answer (the service refuses a second), valid for weeks.
    "follow-up": ("/follow-up/", "FOLLOW_UP_LINK_HOURS"),
    # A private report's page for its reporter (its public page does not exist).
    "report-view": ("/reports/view/", None),
    # A citizen's "my reports" page: it names an e-mail address, so it lives briefly.
    "my-reports": ("/my-reports/", "MY_REPORTS_LINK_HOURS"),
}


class BadToken(Exception):
    """A link that was tampered with, has expired or names nothing."""


def token(kind: str, object_id: int) -> str:
    return signing.dumps(object_id, salt=f"reports.links.{kind}")


def url(kind: str, object_id: int) -> str:
    return f"{settings.SITE_URL}{KINDS[kind][0]}{token(kind, object_id)}"


def read(kind: str, value: str) -> int:
    """The object id in a link of `kind` (raises BadToken)."""
    hours_setting = KINDS[kind][1]
    max_age = getattr(settings, hours_setting) * 3600 if hours_setting else None
    try:
        return int(signing.loads(value, salt=f"reports.links.{kind}", max_age=max_age))
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken("This link is not valid or has expired.") from None


def url_for_value(kind: str, value: str) -> str:
    """A link that carries a text (an e-mail address) instead of an object id."""
    signed = signing.dumps(value, salt=f"reports.links.{kind}")
    return f"{settings.SITE_URL}{KINDS[kind][0]}{signed}"


def read_value(kind: str, value: str) -> str:
    """The text in a link of `kind` made by url_for_value (raises BadToken)."""
    hours_setting = KINDS[kind][1]
    max_age = getattr(settings, hours_setting) * 3600 if hours_setting else None
    try:
        text = signing.loads(value, salt=f"reports.links.{kind}", max_age=max_age)
    except signing.BadSignature:
        raise BadToken("This link is not valid or has expired.") from None
    if not isinstance(text, str):
        raise BadToken("This link is not valid or has expired.")
    return text
