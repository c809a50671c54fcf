"""Follow-up after the fix (FixMyStreet's questionnaire, Signalen's "reopen when unhappy").

- The worker's housekeeping sends it: the municipality's `follow_up_days` after a report was
  resolved, to its reporter and to followers who asked for it, once per address, in their
  language, with a signed one-time link.
- The answer: fixed or not, a satisfaction score (1–5), a comment and a photo (staff only).
- "Not fixed" on a report that is still resolved opens a reopen request, which puts the
  report back in the department's queue. Staff accept it (the report goes back to in
  progress) or decline it with a public reason (on the timeline, mailed to followers).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from geoservice.errors import Conflict, InvalidInput, NotFound
from reports import changes
from reports.lifecycle import Status
from reports.models import FollowUp, Municipality, ReopenRequest, Report, ReportEvent
from reports.notifications import links, outbox
from reports.privacy import mask_citizen_text
from reports.services.casework import _staff_photos, _text
from reports.services.filing import CITIZEN
from reports.services.transitions import transition_locked

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# A municipality that switches follow-ups on asks about reports resolved lately, not about
# its whole archive: at most this many days past its follow_up_days.
CATCH_UP_DAYS = 14
PER_RUN = 500


def follow_ups_send(now: dt.datetime | None = None, limit: int = PER_RUN) -> int:
    """Queue the follow-ups that are due (the worker's housekeeping); how many."""
    now = now or timezone.now()
    sent = 0
    for municipality in Municipality.objects.filter(follow_up_days__isnull=False):
        days = municipality.follow_up_days or 0
        since = now - dt.timedelta(days=days + CATCH_UP_DAYS)
        until = now - dt.timedelta(days=days)
        due = (Report.objects.filter(municipality=municipality, status=Status.RESOLVED,
                                     closed_at__gte=since, closed_at__lt=until,
                                     contact_removed_at__isnull=True)
               .filter(Q(reporter_email__gt="") | Q(followers__follow_up=True,
                                                    followers__confirmed_at__isnull=False))
               .exclude(follow_ups__isnull=False).distinct()
               .order_by("closed_at").values_list("pk", flat=True))
        for report_id in due[:max(limit - sent, 0)]:
            sent += _send(report_id, now)
    return sent


@transaction.atomic
def _send(report_id: int, now: dt.datetime) -> int:
    report = changes.lock(report_id)
    if report.status != Status.RESOLVED or report.follow_ups.exists():
        return 0  # reopened meanwhile, or another worker was first
    recipients = {}
    if report.reporter_email:
        recipients[report.reporter_email.lower()] = (report.language, True)
    for follower in report.followers.filter(follow_up=True, confirmed_at__isnull=False):
        recipients.setdefault(follower.email.lower(), (follower.language, False))
    for email, (language, is_reporter) in recipients.items():
        follow_up = FollowUp.objects.create(report=report, email=email, language=language,
                                            reporter=is_reporter, sent_at=now)
        outbox.enqueue_follow_up(follow_up, links.url("follow-up", follow_up.pk))
    return len(recipients)


def follow_up_for(token: str) -> FollowUp:
    """The follow-up a link names (links.BadToken, NotFound)."""
    follow_up = FollowUp.objects.select_related("report__department", "report__category") \
        .filter(pk=links.read("follow-up", token)).first()
    if follow_up is None:
        raise NotFound("This follow-up no longer exists.")
    return follow_up


@transaction.atomic
def follow_up_answer(*, token: str, fixed: bool | None, satisfaction: int | None,
                     comment: str = "", photos: list[bytes] | None = None) -> FollowUp:
    """The answer, once. "Not fixed" on a report that is still resolved opens a reopen
    request (the report is back in its department's queue)."""
    follow_up_id = links.read("follow-up", token)
    follow_up = FollowUp.objects.select_for_update().filter(pk=follow_up_id).first()
    if follow_up is None:
        raise NotFound("This follow-up no longer exists.")
    if follow_up.answered_at is not None:
        raise Conflict("This follow-up has been answered.")
    errors = {}
    if fixed is None:
        errors["fixed"] = ["Say whether the problem was fixed."]
    if satisfaction is not None and not 1 <= satisfaction <= 5:
        errors["satisfaction"] = ["Choose from 1 to 5."]
    if errors:
        raise InvalidInput("Some fields are invalid.", errors)
    comment = _text(comment, "comment", required=False)
    report = changes.lock(follow_up.report_id)
    stored = _staff_photos(report, photos or [])
    now = timezone.now()
    follow_up.answered_at, follow_up.fixed = now, fixed
    follow_up.satisfaction, follow_up.comment = satisfaction, comment
    follow_up.save(update_fields=["answered_at", "fixed", "satisfaction", "comment"])
    summary = (("Fixed" if fixed else "Not fixed")
               + (f", satisfaction {satisfaction}/5" if satisfaction else "")
               + (f", {len(stored)} photo(s) for staff" if stored else "")
               + (f": {mask_citizen_text(comment)}" if comment else ""))
    reopen = not fixed and report.status == Status.RESOLVED and not report.reopen_requests \
        .filter(state=ReopenRequest.State.OPEN).exists()
    if reopen:
        ReopenRequest.objects.create(report=report, follow_up=follow_up, created_at=now)
    changes.record(report, kind=ReportEvent.Kind.REOPEN_REQUEST if reopen
                   else ReportEvent.Kind.FOLLOW_UP, actor_label=CITIZEN, at=now,
                   internal_text=("The reporter" if follow_up.reporter else "A follower")
                   + f" answered the follow-up: {summary}"
                   + (". Reopening is asked for." if reopen else ""))
    return follow_up


def _open_request(report: Report, request_id: int) -> ReopenRequest:
    request = report.reopen_requests.select_for_update().filter(pk=request_id).first()
    if request is None:
        raise NotFound("No such reopen request on this report.")
    if request.state != ReopenRequest.State.OPEN:
        raise Conflict("This reopen request has been decided.")
    return request


@transaction.atomic
def reopen_accept(*, actor: User, report_id: int, request_id: int,
                  expected_version: int | None = None) -> Report:
    """Staff agree it is not fixed: the report goes back to in progress (through
    acknowledged, the lifecycle's one way out of a closed state)."""
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    request = _open_request(report, request_id)
    request.state, request.decided_at, request.decided_by = (
        ReopenRequest.State.ACCEPTED, timezone.now(), actor)
    request.save(update_fields=["state", "decided_at", "decided_by"])
    if report.status in (Status.RESOLVED, Status.REJECTED, Status.DUPLICATE, Status.REFERRED):
        transition_locked(report, to_status=Status.ACKNOWLEDGED, actor=actor,
                          internal_text="Reopened: the reporter says it is not fixed.")
    if report.status == Status.ACKNOWLEDGED:
        transition_locked(report, to_status=Status.IN_PROGRESS, actor=actor)
    return report


@transaction.atomic
def reopen_decline(*, actor: User, report_id: int, request_id: int, reason: str,
                   expected_version: int | None = None) -> Report:
    """Staff keep the report resolved, and say why in public (followers get it by mail)."""
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Some fields are invalid.",
                           {"reason": ["Say why, in words the reporter reads."]})
    report = changes.lock(report_id, expected_version=expected_version, staff=actor)
    request = _open_request(report, request_id)
    request.state, request.decided_at, request.decided_by, request.reason = (
        ReopenRequest.State.DECLINED, timezone.now(), actor, reason)
    request.save(update_fields=["state", "decided_at", "decided_by", "reason"])
    changes.record(report, kind=ReportEvent.Kind.PUBLIC_REPLY, actor=actor,
                   public_text=reason, internal_text="Reopening declined.")
    outbox.enqueue_report_updated(report, public_text=reason, status_changed=False)
    return report

