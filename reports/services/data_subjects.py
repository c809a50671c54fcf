"""The data subject's rights (GDPR articles 15 and 17): everything OS2geo holds about one
e-mail address or phone number, as a machine-readable file, and its erasure on request, with
the same deletion log as the retention rules.

A municipality admin acts for their municipality: its reports (filed, followed, updated)
and the alerts whose area or circle touches it. Mails that belong to no report (the
confirmation and my-reports links) belong to the whole installation and are included for
every admin. A superuser acts for the whole installation.

Erasure removes the person's contact data and every copy of it (reports.services.retention
.contact_remove for the reports they filed, scrubbing for the rest), their follows and alerts,
and the mails to them; the reports themselves stay (the municipality's case records), with
their masked public text and photos.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from django.core.exceptions import PermissionDenied
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from geoservice.errors import InvalidInput
from reports import selectors
from reports.models import (
    REMOVED,
    AreaAlert,
    DeletionLog,
    FollowUp,
    InboundUpdate,
    Municipality,
    Notification,
    Report,
    StaffMembership,
    Subscription,
)
from reports.services.retention import contact_remove
from reports.services.scrubbing import scrub_reports

if TYPE_CHECKING:
    from django.contrib.auth.models import User

# Danish and Swedish numbers are compared by their last 8 digits (a leading +45, 0045 or
# 0 and the spacing differ between what people type).
PHONE_DIGITS = 8


@dataclass(frozen=True)
class DataSubject:
    kind: str  # "email" or "phone"
    value: str  # normalised: the address in lower case, or the phone's digits

    @property
    def hash(self) -> str:
        return hashlib.sha256(f"{self.kind}:{self.value}".encode()).hexdigest()

    def label(self) -> str:
        return "an e-mail address" if self.kind == "email" else "a phone number"


def subject_parse(value: str) -> DataSubject:
    """An e-mail address or a phone number, as typed; 400 with a field message otherwise."""
    value = (value or "").strip()
    if "@" in value:
        try:
            validate_email(value)
        except Exception:
            raise InvalidInput("Some fields are invalid.",
                               {"subject": ["Not an e-mail address."]}) from None
        return DataSubject("email", value.lower())
    digits = re.sub(r"\D", "", value)
    if len(digits) < PHONE_DIGITS or re.search(r"[^\d\s+().-]", value):
        raise InvalidInput("Some fields are invalid.", {"subject": [
            "Give an e-mail address or a phone number (at least 8 digits)."]})
    return DataSubject("phone", digits)


def admin_municipalities(user: User) -> list[int] | None:
    """The municipalities a user may act for here (None: all, a superuser); [] none."""
    if user.is_superuser:
        return None
    return list(StaffMembership.objects.filter(
        user=user, role=StaffMembership.Role.MUNICIPALITY_ADMIN)
        .values_list("municipality_id", flat=True))


def _scope(user: User) -> list[int] | None:
    scope = admin_municipalities(user)
    if scope == []:
        raise PermissionDenied("Only a municipality admin can do this.")
    return scope


def _phone_matches(column: str, subject: DataSubject) -> Q:
    # The last digits of the stored number, whatever its spacing.
    tail = subject.value[-PHONE_DIGITS:]
    return Q(**{f"{column}__iregex": r"\D*".join(tail) + r"\D*$"}) & ~Q(**{column: ""})


def _contact(subject: DataSubject, email: str, phone: str) -> Q:
    if subject.kind == "email":
        return Q(**{f"{email}__iexact": subject.value})
    return _phone_matches(phone, subject)


@dataclass
class Holdings:
    """What is held about a subject, within a scope."""

    filed: QuerySet[Report]
    followed: QuerySet[Subscription]
    alerts: QuerySet[AreaAlert]
    updates: QuerySet[InboundUpdate]
    mails: QuerySet[Notification]
    follow_ups: QuerySet[FollowUp]

    def counts(self) -> dict[str, int]:
        return {"reports": self.filed.count(), "follows": self.followed.count(),
                "follow_ups": self.follow_ups.count(),
                "alerts": self.alerts.count(), "updates": self.updates.count(),
                "mails": self.mails.count()}


def holdings(subject: DataSubject, scope: list[int] | None) -> Holdings:
    reports = Report.objects.all() if scope is None else Report.objects.filter(
        municipality_id__in=scope)
    filed = reports.filter(_contact(subject, "reporter_email", "reporter_phone"))
    in_scope = Q() if scope is None else Q(report__municipality_id__in=scope)
    followed = (Subscription.objects.filter(email__iexact=subject.value).filter(in_scope)
                if subject.kind == "email" else Subscription.objects.none())
    alerts = (AreaAlert.objects.filter(email__iexact=subject.value)
              if subject.kind == "email" else AreaAlert.objects.none())
    if scope is not None and subject.kind == "email":
        touches = Q()
        for municipality in Municipality.objects.filter(pk__in=scope).select_related("area"):
            geom = municipality.area.geom
            touches |= Q(location__intersects=geom) | Q(area__geom__intersects=geom)
        alerts = alerts.filter(touches) if touches else alerts.none()
    updates = InboundUpdate.objects.filter(_contact(subject, "email", "phone")).filter(in_scope)
    mails = (Notification.objects.filter(recipient__iexact=subject.value)
             .filter(Q(report__isnull=True) | in_scope)
             if subject.kind == "email" else Notification.objects.none())
    follow_ups = (FollowUp.objects.filter(email__iexact=subject.value).filter(in_scope)
                  if subject.kind == "email" else FollowUp.objects.none())
    return Holdings(filed.order_by("pk"), followed.order_by("pk"), alerts.order_by("pk"),
                    updates.order_by("pk"), mails.order_by("pk"), follow_ups.order_by("pk"))


def _when(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def subject_export(*, actor: User, value: str) -> dict[str, Any]:
    """Everything held about the address or number, as JSON-able data (article 15)."""
    subject = subject_parse(value)
    held = holdings(subject, _scope(actor))
    reports = []
    for report in held.filed.select_related("category", "department", "municipality") \
            .prefetch_related("events", "photos", "followers"):
        reports.append({
            "id": report.pk, "created_at": _when(report.created_at),
            "municipality": report.municipality.name, "category": report.category.name,
            "department": report.department.name, "status": report.status,
            "address": report.address,
            "location": {"lon": report.location.x, "lat": report.location.y},
            "description": report.description, "answers": report.answers,
            "reporter": {"name": report.reporter_name, "email": report.reporter_email,
                         "phone": report.reporter_phone},
            "channel": report.source, "public": report.public,
            "timeline": [{"at": _when(e.created_at), "kind": e.kind, "by": e.actor_label,
                          "public_text": e.public_text}
                         for e in report.events.all()
                         if e.kind in selectors.PUBLIC_EVENT_KINDS],
            "photos": [p.url for p in report.photos.all()],
        })
    return {
        "subject": {"kind": subject.kind, "value": subject.value},
        "generated_at": timezone.now().isoformat(),
        "generated_by": actor.get_username(),
        "reports_filed": reports,
        "follows": [{"report": s.report_id, "since": _when(s.created_at),
                     "confirmed_at": _when(s.confirmed_at), "language": s.language}
                    for s in held.followed],
        "alerts": [{"id": a.pk, "frequency": a.frequency,
                    "area": a.area.name if a.area is not None else None,
                    "circle": {"lon": a.location.x, "lat": a.location.y,
                               "radius_m": a.radius_m} if a.location else None,
                    "since": _when(a.created_at), "confirmed_at": _when(a.confirmed_at)}
                   for a in held.alerts.select_related("area")],
        "updates_sent": [{"report": u.report_id, "at": _when(u.created_at), "name": u.name,
                          "email": u.email, "phone": u.phone, "status_shown": u.status}
                         for u in held.updates],
        "follow_ups": [{"report": f.report_id, "sent_at": _when(f.sent_at),
                        "answered_at": _when(f.answered_at), "fixed": f.fixed,
                        "satisfaction": f.satisfaction, "comment": f.comment}
                       for f in held.follow_ups],
        "mails": [{"at": _when(n.sent_at or n.created_at), "event": n.event,
                   "subject": n.subject, "state": n.state, "report": n.report_id,
                   "text": n.body_text} for n in held.mails],
    }


@dataclass(frozen=True)
class Erasure:
    reports: int
    follows: int
    alerts: int
    updates: int
    mails: int


@transaction.atomic
def subject_erase(*, actor: User, value: str) -> Erasure:
    """Erase the address or number (article 17): see the module's docstring. One deletion
    log row per report touched, and one for what belongs to no report."""
    subject = subject_parse(value)
    held = holdings(subject, _scope(actor))
    now = timezone.now()
    rule = f"Erasure of {subject.label()} requested, carried out by {actor.get_username()}"
    filed = list(held.filed.values_list("pk", flat=True))
    # The exact spellings stored, for the copies in other reports' rows.
    needles = {subject.value}
    for values in [*held.filed.values_list("reporter_email", "reporter_phone", "reporter_name"),
                   *held.updates.values_list("email", "phone", "name")]:
        needles |= {str(v) for v in values if v}
    followed_reports = list(held.followed.values_list("report_id", flat=True))
    update_reports = list(held.updates.values_list("report_id", flat=True))
    mail_reports = [r for r in held.mails.values_list("report_id", flat=True) if r]
    follow_up_reports = list(held.follow_ups.values_list("report_id", flat=True))
    counts = Erasure(reports=len(filed), follows=len(followed_reports),
                     alerts=held.alerts.count(), updates=len(update_reports),
                     mails=held.mails.count())
    kw: dict[str, Any] = {"reason": DeletionLog.Reason.ERASURE, "rule": rule,
                          "actor_id": actor.pk, "subject_hash": subject.hash}
    if filed:
        contact_remove(filed, now=now, **kw)
    held.mails.update(recipient=REMOVED, body_text="", body_html="", context=None,
                      headers={}, payload=None)
    Notification.objects.filter(recipient=REMOVED, state__in=[
        Notification.State.PENDING, Notification.State.SENDING]).delete()
    held.updates.update(name="", email="", phone="")
    held.follow_ups.update(email="", comment="")
    held.followed.delete()
    held.alerts.delete()
    others = sorted(set(followed_reports + update_reports + mail_reports + follow_up_reports)
                    - set(filed))
    scrub_reports(filed + others, sorted(needles), REMOVED)
    DeletionLog.objects.bulk_create(
        [DeletionLog(at=now, report_id=r, removed={"contact_copies": 1}, **kw)
         for r in others]
        + [DeletionLog(at=now, removed={"alerts": counts.alerts, "mails": counts.mails},
                       **kw)])
    return counts
