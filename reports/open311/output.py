"""Open311 GeoReport v2 documents built from our objects (JSON-able data; formats.py writes
them as JSON or XML). Public fields only, citizen text masked."""

from __future__ import annotations

import re

from django.conf import settings
from django.utils import timezone

from reports.lifecycle import open311_status
from reports.models import Category, Report, ReportEvent
from reports.open311.formats import iso
from reports.privacy import mask_citizen_text, mask_identity_numbers

POSTCODE = re.compile(r",\s*(\d{4})\s")
# The attribute that names an asset (by its owner's id) in a category with asset types.
ASSET_ATTRIBUTE = "asset_id"


def discovery(base_url: str) -> dict:
    return {
        "changeset": iso(timezone.now().replace(hour=0, minute=0, second=0, microsecond=0)),
        "contact": f"Open311 endpoint of OS2geo, {settings.SITE_URL}",
        "key_service": f"{settings.SITE_URL}/admin/ (API clients and keys)",
        "endpoints": [{
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": base_url, "changeset": None, "type": "production",
            "formats": ["application/json", "text/xml"],
        }],
    }


def service(category: Category) -> dict:
    return {
        "service_code": category.code,
        "service_name": category.name,
        "description": category.description,
        # prefetched by the selector
        "metadata": bool(category.questions.all()) or bool(category.asset_types.all()),
        "type": "realtime",
        "keywords": category.kle.title,
        "group": category.group,
    }


def service_definition(category: Category, notices: list | None = None) -> dict:
    """The category's questions, after its notices and stoppers as informational
    attributes (`variable: false`: text for the reader, no input), as GeoReport v2 lets a
    definition carry text for apps to show."""
    informational = [{
        "variable": False, "code": f"{notice.kind}-{index}", "datatype": "text",
        "required": False, "datatype_description": notice.kind, "order": index,
        "description": " ".join(p for p in (notice.text, notice.link, notice.phone) if p),
        "values": []} for index, notice in enumerate(notices or [], start=1)]
    return {"service_code": category.code, "attributes": informational + [{
        "variable": True,
        "code": q.code,
        "datatype": q.datatype,
        "required": q.required,
        "datatype_description": q.get_datatype_display(),
        "order": q.order,
        "description": q.question + (f" ({q.description})" if q.description else ""),
        "values": [{"key": v.get("key"), "name": v.get("name")} for v in q.values],
    } for q in category.questions.all()] + _asset_attributes(category)}


def _asset_attributes(category: Category) -> list[dict]:
    """The `asset_id` attribute of a category whose reports may name an asset, after its
    questions; none for a category without asset types."""
    types = [t.name for t in category.asset_types.all()]  # prefetched by the selector
    if not types:
        return []
    return [{"variable": True, "code": ASSET_ATTRIBUTE, "datatype": "string",
             "required": False, "datatype_description": "asset id", "order": 1000,
             "description": f"Which {' or '.join(types)} (its id, e.g. the number on it; "
                            "GET /api/v1/assets/nearest/ lists them)", "values": []}]


def _public_answer(value):
    if isinstance(value, list):
        value = ",".join(map(str, value))
    return mask_citizen_text(value) if isinstance(value, str) else value


def request(report: Report, *, extensions: bool) -> dict:
    """One service request (reports.open311.selectors prefetched what it needs)."""
    photos = list(report.photos.all())
    # Annotated and prefetched by reports.open311.selectors (not model fields).
    status_notes: str | None = report.status_notes  # type: ignore[attr-defined]
    postcode = POSTCODE.search(report.address + " ")
    data = {
        "service_request_id": str(report.pk),
        "status": open311_status(report.status),
        "status_notes": mask_identity_numbers(status_notes or ""),
        "service_name": report.category.name,
        "service_code": report.category.code,
        "description": report.public_description,
        "agency_responsible": (report.responsible_body or report.department).name,
        "service_notice": "",
        "requested_datetime": iso(report.created_at),
        "updated_datetime": iso(report.updated_at),
        "expected_datetime": iso(report.expected_at) if report.expected_at else None,
        "address": report.address,
        "address_id": None,
        "zipcode": postcode.group(1) if postcode else None,
        "lat": round(report.location.y, 7),
        "long": round(report.location.x, 7),
        "media_url": photos[0].url if photos else (report.media_url or None),
    }
    if extensions:
        data["extended_attributes"] = {
            "detailed_status": report.status,
            "jurisdiction_id": report.municipality.code,
            "version": report.version,
            # Free-text answers are citizen text like the description: masked in public.
            "answers": [{"code": code, "value": _public_answer(value)}
                        for code, value in report.answers.items()],
            "notes": [{"datetime": iso(event.created_at), "kind": event.kind,
                       "status": event.to_status or None,
                       "text": mask_identity_numbers(event.public_text)}
                      for event in report.public_events],  # type: ignore[attr-defined]
            "photos": [{"url": p.url, "thumbnail_url": p.thumbnail_url} for p in photos],
            "asset": {"id": report.asset.external_id, "label": report.asset_label,
                      "type": report.asset.asset_type.code} if report.asset else None,
        }
    return data


def update(event: ReportEvent) -> dict:
    data = {
        "update_id": str(event.pk),
        "service_request_id": str(event.report_id),
        "status": open311_status(event.to_status or event.report.status),
        "updated_datetime": iso(event.created_at),
        "description": mask_identity_numbers(event.public_text),
        "media_url": None,
    }
    if event.to_status:
        # mySociety's field for the back office's own status: ours, in full, so that a
        # front end (another OS2geo) can follow the whole lifecycle, not only open/closed.
        data["external_status_code"] = event.to_status
    return data


def created(report: Report, notices: list | None = None) -> dict:
    sent = (f"Sent to {report.responsible_body.name}." if report.responsible_body
            else f"Sent to {report.department.name}, {report.municipality.name}.")
    return {
        "service_request_id": str(report.pk),
        "token": str(report.token),
        "service_notice": " ".join([*(n.text for n in notices or []), sent]),
        "account_id": report.account_id or None,
    }
