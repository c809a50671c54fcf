"""Signed links for following reports: confirm (double opt-in, expires) and one-click
unsubscribe (never expires, so that an old mail's link still works)."""

from __future__ import annotations

from django.conf import settings
from django.core import signing

CONFIRM_SALT = "reports.subscription.confirm"
UNSUBSCRIBE_SALT = "reports.subscription.unsubscribe"


class BadToken(Exception):
    """A link that was tampered with, has expired or names nothing."""


def confirm_token(subscription_id: int) -> str:
    return signing.dumps(subscription_id, salt=CONFIRM_SALT)


def unsubscribe_token(subscription_id: int) -> str:
    return signing.dumps(subscription_id, salt=UNSUBSCRIBE_SALT)


def read_confirm_token(token: str) -> int:
    try:
        return int(signing.loads(token, salt=CONFIRM_SALT,
                                 max_age=settings.SUBSCRIPTION_CONFIRM_HOURS * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken("This confirmation link is not valid or has expired.") from None


def read_unsubscribe_token(token: str) -> int:
    try:
        return int(signing.loads(token, salt=UNSUBSCRIBE_SALT))
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken("This unsubscribe link is not valid.") from None


def confirm_url(subscription_id: int) -> str:
    return f"{settings.SITE_URL}/subscriptions/confirm/{confirm_token(subscription_id)}"


def unsubscribe_url(subscription_id: int) -> str:
    return f"{settings.SITE_URL}/subscriptions/unsubscribe/{unsubscribe_token(subscription_id)}"


REPORT_CONFIRM_SALT = "reports.report.confirm"


def report_confirm_url(report_id: int) -> str:
    token = signing.dumps(report_id, salt=REPORT_CONFIRM_SALT)
    return f"{settings.SITE_URL}/reports/confirm/{token}"


def read_report_confirm_token(token: str) -> int:
    try:
        return int(signing.loads(token, salt=REPORT_CONFIRM_SALT,
                                 max_age=settings.REPORT_CONFIRM_HOURS * 3600))
    except (signing.BadSignature, TypeError, ValueError):
        raise BadToken("This confirmation link is not valid or has expired.") from None
