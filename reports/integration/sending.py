"""Reports sent on to Open311 destinations, through the outbox (reports.notifications).

Enqueued in the transaction of the change (`enqueue_*`, called by the outbox), delivered
by the notification worker (`deliver`) with its leases, backoff and per-destination
threads. Never two cases for one report at one destination:

- the case row (ExternalCase, one per report and destination) is written with the first
  send and records their id in the same transaction that marks it accepted; a delivery
  that finds an id recorded sends nothing;
- every POST of one report to one destination carries the same Idempotency-Key, so when
  the worker dies after the other side accepted but before the id was recorded, the
  retry gets the first answer back from a server that keeps keys (OS2geo does). A server
  that keeps no keys can get a second case in that window; its `requests` list is the
  place to look (the note on the destination's admin page says so).
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from reports.integration import client
from reports.lifecycle import open311_status
from reports.models import Destination, ExternalCase, Notification, Report, ReportEvent
from reports.open311.formats import iso
from reports.privacy import mask_identity_numbers


class NotYet(Exception):
    """The delivery cannot be made yet (an update of a case not accepted yet): retried."""


def destinations_for(report: Report) -> list[Destination]:
    return [d for d in Destination.objects.filter(municipality_id=report.municipality_id,
                                                  active=True) if d.takes(report)]


def enqueue_requests(report: Report) -> list[Notification]:
    """A send to every destination that takes the report and has no case of it yet (a new
    report, or one re-routed to a department with a destination of its own)."""
    rows = []
    for destination in destinations_for(report):
        case, created = ExternalCase.objects.get_or_create(report=report,
                                                           destination=destination)
        if created:
            rows.append(Notification(
                channel=Notification.Channel.OPEN311, event="open311.request", report=report,
                destination=destination, recipient=destination.endpoint,
                payload={"send": "request"}))
    return rows


def enqueue_update(report: Report, event: ReportEvent, *,
                   origin: Destination | None = None) -> list[Notification]:
    """A public reply or status change, to every destination holding a case of the report
    that takes updates, except the one the change came from."""
    cases = ExternalCase.objects.filter(report=report, destination__active=True,
                                        destination__send_updates=True).exclude(
        state=ExternalCase.State.FAILED).select_related("destination")
    return [Notification(channel=Notification.Channel.OPEN311, event="open311.update",
                         report=report, destination=case.destination,
                         recipient=case.destination.endpoint,
                         payload={"send": "update", "event": event.pk})
            for case in cases if origin is None or case.destination_id != origin.pk]


def idempotency_key(report_id: int, destination_id: int) -> str:
    return f"os2geo-{settings.SITE_URL}-report-{report_id}-destination-{destination_id}"


def report_link(report_id: int) -> str:
    return f"{settings.SITE_URL}/reports/{report_id}"


def _request_fields(report: Report, destination: Destination) -> dict[str, str]:
    """The GeoReport v2 form of a report, as the back office (the municipality's own
    system) needs it: the text as written, the reporter's contact, and the link to the
    report here as the description's last line (as FixMyStreet sends its own: servers
    refuse attributes their service does not define, so it cannot be one)."""
    first, _, last = report.reporter_name.partition(" ")
    fields = {
        "service_code": destination.service_codes.get(report.category.code,
                                                      report.category.code),
        "lat": f"{report.location.y:.7f}", "long": f"{report.location.x:.7f}",
        "description": f"{report.description}\n\n{report_link(report.pk)}",
        "address_string": report.address,
        "email": report.reporter_email, "first_name": first, "last_name": last,
        "phone": report.reporter_phone,
    }
    for code, value in (report.answers or {}).items():
        key = destination.attributes.get(code, code)
        if not key:
            continue  # mapped to nothing: their service does not ask it
        fields[f"attribute[{key}]"] = ",".join(map(str, value)) if isinstance(value, list) \
            else str(value)
    photo = report.photos.order_by("id").first()
    if photo is not None:
        fields["media_url"] = photo.url if photo.url.startswith("http") else \
            settings.SITE_URL + photo.url
    elif report.media_url:
        fields["media_url"] = report.media_url
    return {key: value for key, value in fields.items() if value != ""}


def _record(case: ExternalCase, **fields) -> None:
    for name, value in fields.items():
        setattr(case, name, value)
    case.save(update_fields=list(fields))


def _send_request(row: Notification) -> None:
    destination = row.destination
    assert destination is not None and row.report_id is not None
    case = ExternalCase.objects.get_or_create(report_id=row.report_id,
                                              destination=destination)[0]
    if case.service_request_id:
        return  # accepted before (a replay of a delivery whose outcome was not recorded)
    if case.token:
        if resolve_token(case):
            return
        raise NotYet(f"{destination} has not turned token {case.token} into a case yet.")
    report = Report.objects.select_related("category").get(pk=row.report_id)
    try:
        answer = client.post(destination, "requests.json", _request_fields(report, destination),
                             idempotency_key=idempotency_key(report.pk, destination.pk))
    except client.Open311Failed as exc:
        _record(case, last_error=str(exc)[:2000],
                **({"state": ExternalCase.State.FAILED} if exc.permanent else {}))
        raise
    item = answer[0] if isinstance(answer, list) and answer else answer
    if not isinstance(item, dict):
        raise client.Open311Failed(f"Unexpected answer to the POST: {str(answer)[:200]}")
    their_id = str(item.get("service_request_id") or "")
    token = str(item.get("token") or "")
    if not (their_id or token):
        raise client.Open311Failed(f"The answer names no service_request_id or token: "
                                   f"{str(item)[:200]}")
    try:
        with transaction.atomic():
            _record(case, service_request_id=their_id, token=token,
                    state=ExternalCase.State.SENT, sent_at=timezone.now(), last_error="")
    except IntegrityError as exc:
        raise client.Open311Failed(f"{destination} answered with case {their_id}, which "
                                   "another report has already.", permanent=True) from exc


def resolve_token(case: ExternalCase) -> bool:
    """Ask the destination for the id behind a case's token; True once it is known."""
    answer = client.get(case.destination, f"tokens/{case.token}.json", {})
    item = answer[0] if isinstance(answer, list) and answer else {}
    their_id = str(item.get("service_request_id") or "") if isinstance(item, dict) else ""
    if their_id:
        _record(case, service_request_id=their_id, state=ExternalCase.State.SENT)
    return bool(their_id)


def _send_update(row: Notification) -> None:
    destination = row.destination
    assert destination is not None
    event = ReportEvent.objects.select_related("report").filter(
        pk=int((row.payload or {}).get("event") or 0)).first()
    if event is None:
        return  # the report is gone
    case = ExternalCase.objects.filter(report_id=event.report_id,
                                       destination=destination).first()
    if case is None or case.state == ExternalCase.State.FAILED:
        raise client.Open311Failed(f"The report has no case at {destination}.",
                                   permanent=True)
    if not case.service_request_id:
        raise NotYet(f"{destination} has not accepted the report yet.")
    client.post(destination, "servicerequestupdates.json", {
        "service_request_id": case.service_request_id,
        "update_id": str(event.pk),
        "updated_datetime": iso(event.created_at) or "",
        "status": open311_status(event.to_status or event.report.status).upper(),
        "description": mask_identity_numbers(event.public_text) or
        str(ReportEvent.Kind(event.kind).label),
    }, idempotency_key=f"os2geo-{settings.SITE_URL}-event-{event.pk}-destination-"
                       f"{destination.pk}")


def deliver(row: Notification) -> None:
    """Make one Open311 delivery; Open311Failed or NotYet when it did not go through."""
    if (row.payload or {}).get("send") == "update":
        _send_update(row)
    else:
        _send_request(row)


@transaction.atomic
def cases_retry(*, actor, report_id: int) -> int:
    """Staff "retry now": a report's sends that have not gone through are due at once with
    a fresh set of attempts (the case and its Idempotency-Key stay: a send that did reach
    the other side is not made twice). How many sends were put back."""
    from reports import changes

    changes.lock(report_id, staff=actor)  # outside the user's scope: PermissionDenied
    ExternalCase.objects.filter(report_id=report_id, state=ExternalCase.State.FAILED).update(
        state=ExternalCase.State.PENDING)
    return Notification.objects.filter(
        report_id=report_id, channel=Notification.Channel.OPEN311).exclude(
        state=Notification.State.SENT).update(
        state=Notification.State.PENDING, attempts=0, lease_until=None, claimed_by="",
        next_attempt_at=timezone.now())


def send_state(cases: list[ExternalCase]) -> str:
    """A report's sending as one word: "sent" only when every destination accepted it."""
    states = {case.state for case in cases}
    if not states:
        return ""
    if ExternalCase.State.FAILED in states:
        return ExternalCase.State.FAILED
    return ExternalCase.State.SENT if states == {ExternalCase.State.SENT} else \
        ExternalCase.State.PENDING
