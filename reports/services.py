"""Every write to reports goes through a function here (STYLE.md: services)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone

from geoservice.errors import InvalidInput, InvalidTransition, OutsideServiceArea, UnknownCategory
from maps.geo import valid_lon_lat
from maps.selectors import nearest_address
from reports import events, selectors
from reports.lifecycle import NEEDS_PUBLIC_TEXT, Status, can_transition
from reports.models import DESCRIPTION_MAX_LENGTH, Municipality, Report, ReportEvent
from reports.routing import route

CITIZEN = "citizen"


@dataclass(frozen=True)
class Reporter:
    name: str = ""
    email: str = ""
    phone: str = ""


def _check_location(location: Point) -> None:
    if location.srid not in (None, 4326) or not valid_lon_lat(location.x, location.y):
        raise InvalidInput(
            "The location is not a valid WGS84 point.",
            {"location": ["Longitude must lie in [-180, 180] and latitude in [-90, 90]."]},
        )


def municipality_serving(location: Point) -> Municipality:
    """The served municipality at `location`, or OutsideServiceArea naming the nearest one."""
    municipality = selectors.municipality_at(location)
    if municipality is not None:
        return municipality
    nearest = selectors.nearest_served_municipality(location)
    if nearest is None:
        raise OutsideServiceArea("No municipality is served here yet.")
    km = nearest.distance_m / 1000
    name = nearest.municipality.name
    raise OutsideServiceArea(
        f"The location is outside every municipality served here. The nearest served "
        f"municipality is {name} ({nearest.municipality.code}), {km:.1f} km away.",
        nearest_code=nearest.municipality.code,
    )


def _clean_description(description: str) -> str:
    text = (description or "").strip()
    if not text:
        raise InvalidInput("Some fields are invalid.",
                           {"description": ["Describe the problem."]})
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise InvalidInput(
            "Some fields are invalid.",
            {"description": [f"At most {DESCRIPTION_MAX_LENGTH} characters (got {len(text)})."]},
        )
    return text


@transaction.atomic
def report_create(
    *,
    location: Point,
    category_code: str,
    description: str,
    address: str = "",
    reporter: Reporter | None = None,
    source: str = Report.Source.API,
    created_at=None,
) -> Report:
    """Validate, route and store a new report with the first rows of its timeline.

    Raises OutsideServiceArea (naming the nearest served municipality), UnknownCategory or
    InvalidInput; nothing is stored then.
    """
    _check_location(location)
    location = Point(location.x, location.y, srid=4326)
    text = _clean_description(description)
    municipality = municipality_serving(location)
    category = selectors.category_for_report(municipality, category_code)
    if category is None:
        raise UnknownCategory(
            f"There is no category {category_code!r} in {municipality.name}.",
            {"category": [f"Unknown or inactive category in {municipality.name}: "
                          f"{category_code!r}. GET /api/v1/categories/?lon=&lat= lists them."]},
        )
    area_ids = selectors.covering_area_ids(location)
    default = municipality.default_department
    decision = route(
        kle_number=category.kle.number,
        rules=selectors.routing_rules_for(municipality, category.kle.number, area_ids),
        covering_area_ids=area_ids,
        default_department=(default.id, default.name) if default else None,
    )
    if decision.department_id is None:
        raise UnknownCategory(
            f"{municipality.name} has no department for this category yet.",
            {"category": ["No department handles this category here."]},
        )
    address = (address or "").strip()
    if not address:
        found = nearest_address(location, max_distance_m=settings.REPORT_ADDRESS_MAX_DISTANCE_M)
        address = found.address.label if found else ""
    reporter = reporter or Reporter()
    now = created_at or timezone.now()
    report = Report.objects.create(
        municipality=municipality,
        category=category,
        department_id=decision.department_id,
        location=location,
        address=address[:300],
        description=text,
        status=Status.SUBMITTED,
        needs_triage=decision.needs_triage,
        routing_explanation=decision.explanation[:500],
        reporter_name=reporter.name.strip(),
        reporter_email=reporter.email.strip(),
        reporter_phone=reporter.phone.strip(),
        source=source,
        created_at=now,
        updated_at=now,
    )
    ReportEvent.objects.bulk_create([
        ReportEvent(report=report, kind=ReportEvent.Kind.CREATED, actor_label=CITIZEN,
                    to_status=Status.SUBMITTED, created_at=now),
        ReportEvent(report=report, kind=ReportEvent.Kind.ROUTED, actor_label="OS2geo",
                    public_text=f"Sent to {decision.department_name}.",
                    internal_text=decision.explanation, created_at=now),
    ])
    events.report_changed(events.CREATED, report.pk)
    return report


@transaction.atomic
def report_transition(
    *,
    report_id: int,
    to_status: str,
    actor=None,
    actor_label: str = "",
    public_text: str = "",
    internal_text: str = "",
    duplicate_of_id: int | None = None,
    expected_version: int | None = None,
    at=None,
) -> Report:
    """Move a report to `to_status` (see reports.lifecycle.TRANSITIONS) and record it.

    Locks the report row, so concurrent transitions serialise; with `expected_version` a
    change based on a stale copy raises InvalidTransition instead of overwriting.
    """
    report = Report.objects.select_for_update().select_related("department").get(pk=report_id)
    if to_status not in Status.values:
        raise InvalidInput("Unknown status.", {"status": [f"Unknown status {to_status!r}."]})
    if expected_version is not None and expected_version != report.version:
        raise InvalidTransition(
            f"The report changed meanwhile (version {report.version}, you had "
            f"{expected_version}). Reload it and try again.",
            {"version": [f"Current version is {report.version}."]},
        )
    if not can_transition(report.status, to_status):
        raise InvalidTransition(
            f"A report that is {report.status} cannot become {to_status}.",
            {"status": [f"Not allowed from {report.status}."]},
        )
    public_text = public_text.strip()
    if to_status in NEEDS_PUBLIC_TEXT and not public_text:
        raise InvalidInput("Some fields are invalid.",
                           {"public_text": [f"Say publicly why the report is {to_status}."]})
    duplicate_of = None
    if to_status == Status.DUPLICATE:
        duplicate_of = _duplicate_target(report, duplicate_of_id)
    now = at or timezone.now()
    from_status = report.status
    report.status = to_status
    report.duplicate_of = duplicate_of if to_status == Status.DUPLICATE else None
    report.version += 1
    report.updated_at = now
    report.save(update_fields=["status", "duplicate_of", "version", "updated_at"])
    ReportEvent.objects.create(
        report=report, kind=ReportEvent.Kind.STATUS, actor=actor,
        actor_label=actor_label or report.department.name, from_status=from_status,
        to_status=to_status, public_text=public_text, internal_text=internal_text.strip(),
        created_at=now,
    )
    events.report_changed(events.UPDATED, report.pk)
    return report


def _duplicate_target(report: Report, duplicate_of_id: int | None) -> Report:
    if duplicate_of_id is None:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["Name the report this one duplicates."]})
    target = Report.objects.filter(pk=duplicate_of_id).first()
    if target is None or target.pk == report.pk:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["No such other report."]})
    if target.municipality_id != report.municipality_id:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["The original must be in the same municipality."]})
    if target.status == Status.DUPLICATE:
        raise InvalidInput("Some fields are invalid.",
                           {"duplicate_of": ["That report is itself a duplicate."]})
    return target

