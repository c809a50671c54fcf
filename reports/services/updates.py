"""Updates that front ends post to us: mySociety's `POST servicerequestupdates`, with which
FixMyStreet (or any front end speaking the extension) uses OS2geo as its back office and
sends its citizens' comments on the reports it sent here."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import IntegrityError, transaction

from geoservice.errors import InvalidInput, NotFound
from reports import changes
from reports.models import ApiClient, InboundUpdate, Report, ReportEvent
from reports.privacy import mask_citizen_text
from reports.services.filing import CITIZEN

DESCRIPTION_MAX_LENGTH = 4000


@dataclass(frozen=True)
class CitizenUpdate:
    their_update_id: str
    service_request_id: str
    description: str
    status: str = ""
    name: str = ""
    email: str = ""
    phone: str = ""
    media_url: str = ""
    updated_at: dt.datetime | None = None


def _existing(client: ApiClient, their_update_id: str) -> InboundUpdate | None:
    return InboundUpdate.objects.filter(client=client,
                                        their_update_id=their_update_id).first()


def report_citizen_update(*, client: ApiClient, update: CitizenUpdate
                          ) -> tuple[InboundUpdate, bool]:
    """Record a front end's update on a report it filed here, once per its update id:
    (the record, True) the first time, (the first record, False) on a repeat.

    The citizen's text goes on the public timeline, identity numbers masked; their name and
    contact stay with staff. The status the front end shows is kept as information: staff
    decide the lifecycle here (a "fixed" from the front end does not close the case).
    """
    if (found := _existing(client, update.their_update_id)) is not None:
        return found, False
    text = update.description.strip()
    if not text and not update.media_url:
        raise InvalidInput("Some fields are invalid.",
                           {"description": ["Write the update (or give a media_url)."]})
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput("Some fields are invalid.", {"description": [
            f"At most {DESCRIPTION_MAX_LENGTH} characters."]})
    report_id = int(update.service_request_id) if update.service_request_id.isdigit() else 0
    # Only the reports this client sent here: of any other it learns nothing, not even
    # that it exists.
    if not Report.objects.filter(pk=report_id, api_client=client).exists():
        raise NotFound(f"No service request {update.service_request_id!r}.")
    try:
        with transaction.atomic():
            report = changes.lock(report_id)
            who = " ".join(part for part in (update.name, f"<{update.email}>"
                                             if update.email else "", update.phone) if part)
            event = changes.record(
                report, kind=ReportEvent.Kind.CITIZEN_UPDATE, actor_label=CITIZEN,
                public_text=mask_citizen_text(text),
                internal_text=(f"From {client.name}" + (f": {who}" if who else "")
                               + (f"; shown there as {update.status}" if update.status
                                  else "")
                               + (f"; photo {update.media_url}" if update.media_url else "")
                               + (f"\n\n{text}" if mask_citizen_text(text) != text
                                  else "")))
            record = InboundUpdate.objects.create(
                client=client, their_update_id=update.their_update_id, report=report,
                event=event, status=update.status[:50], name=update.name[:200],
                email=update.email, phone=update.phone[:40], media_url=update.media_url,
                updated_at=update.updated_at)
    except IntegrityError:  # the same update id, posted twice at once: the first one won
        found = _existing(client, update.their_update_id)
        if found is None:
            raise
        return found, False
    return record, True
