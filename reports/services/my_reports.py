"""A citizen's own reports without an account: a short-lived signed link by mail lists what
they filed or follow (the last 12 months), and lets them stop following or withdraw a report
nobody has acted on yet. Asking for the link answers the same whether or not the address is
known, and mails an address a few times an hour at most."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone, translation
from django.utils.translation import gettext

from geoservice.errors import Conflict, InvalidInput, NotFound
from reports import changes, selectors
from reports.lifecycle import Status
from reports.models import Report, ReportEvent, Subscription
from reports.notifications import links, outbox
from reports.services.filing import CITIZEN, _language
from reports.services.transitions import transition_locked

MONTHS = 12
# What the reporter or the system did to a report; anything else is staff acting on it.
NOT_ACTED_ON = {ReportEvent.Kind.CREATED, ReportEvent.Kind.ROUTED, ReportEvent.Kind.CONFIRMED,
                ReportEvent.Kind.PHOTO, ReportEvent.Kind.CITIZEN_UPDATE}


def _normalised(email: str) -> str:
    email = (email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise InvalidInput("Some fields are invalid.", {"email": ["Enter a valid e-mail."]})
    return email


def _theirs(email: str) -> Q:
    """What the address filed (whatever became of it: it is theirs), or follows while it
    is public (someone else's report they may not see once hidden or private)."""
    since = timezone.now() - dt.timedelta(days=30 * MONTHS)
    return (Q(reporter_email__iexact=email) | Q(followers__email=email,
                                                followers__confirmed_at__isnull=False,
                                                public=True)) & Q(
        created_at__gte=since, confirmed_at__isnull=False)


def my_reports_link_request(*, email: str, language: str = "da") -> None:
    """Mail the link to an address that filed or follows something (nothing otherwise);
    the caller answers the same either way."""
    email = _normalised(email)
    if Report.objects.filter(_theirs(email)).exists():
        outbox.enqueue_my_reports_link(email, links.url_for_value("my-reports", email),
                                       _language(language))


@dataclass(frozen=True)
class MyReport:
    report: Report
    filed: bool           # theirs; else one they follow
    following: bool
    can_withdraw: bool
    link: str             # its public page, or the private one
    timeline: list[dict]


def _acted_on() -> Exists:
    return Exists(ReportEvent.objects.filter(report=OuterRef("pk")).exclude(
        kind__in=NOT_ACTED_ON))


def _untouched(report: Report) -> bool:
    return report.status == Status.SUBMITTED and not Report.objects.filter(
        pk=report.pk).filter(_acted_on()).exists()


def my_reports(*, token: str) -> tuple[str, list[MyReport]]:
    """(the address, its reports newest first) for a my-reports link (links.BadToken)."""
    email = links.read_value("my-reports", token)
    # One statement for the list, one for every timeline (not two per report).
    reports = (Report.objects.filter(_theirs(email)).distinct()
               .select_related("category", "department", "municipality", "responsible_body")
               .annotate(acted_on=_acted_on())
               .prefetch_related(Prefetch("events", queryset=selectors.public_events(),
                                          to_attr="public_events"))
               .order_by("-id"))
    following = set(Subscription.objects.filter(email=email, confirmed_at__isnull=False)
                    .values_list("report_id", flat=True))
    found = []
    for report in reports:
        filed = report.reporter_email.lower() == email
        link = (f"/reports/{report.pk}" if report.public else
                links.url("report-view", report.pk) if report.private else "")
        found.append(MyReport(report=report, filed=filed,
                              following=report.pk in following,
                              can_withdraw=filed and report.status == Status.SUBMITTED
                              and not report.acted_on,
                              link=link,
                              timeline=[_labelled(selectors.timeline_entry(event)) for event
                                        in report.public_events]))
    return email, found


def _labelled(entry: dict) -> dict:
    return {**entry, "status_label": Status(entry["to_status"]).label
            if entry["to_status"] else ""}


@transaction.atomic
def my_report_unfollow(*, token: str, report_id: int) -> int:
    """Stop mails about one report; how many follows ended (0: there were none)."""
    email = links.read_value("my-reports", token)
    return Subscription.objects.filter(email=email, report_id=report_id).delete()[0]


@transaction.atomic
def my_report_withdraw(*, token: str, report_id: int) -> Report:
    """The reporter takes back a report nobody has acted on yet: it is closed as rejected,
    saying publicly that its reporter withdrew it."""
    email = links.read_value("my-reports", token)
    report = changes.lock(report_id)
    if report.reporter_email.lower() != email:
        raise NotFound(f"No report {report_id} of yours.")
    if not _untouched(report):
        raise Conflict("Staff have started on this report; it can no longer be withdrawn. "
                       "Write to the municipality instead.")
    with translation.override(report.language):
        said = gettext("Withdrawn by the reporter.")
    return transition_locked(report, to_status=Status.REJECTED, actor_label=CITIZEN,
                             public_text=said,
                             internal_text="Withdrawn from the reporter's my-reports page.")
