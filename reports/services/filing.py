"""Filing a report: validate, route and store it with its first timeline rows, answers and
photos; confirmation of web reports; announcing a report once it is public; more photos."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext

from geoservice.errors import (
    InvalidInput,
    NotFound,
    OutsideServiceArea,
    UnknownCategory,
)
from maps.geo import haversine_m, valid_lon_lat
from maps.selectors import nearest_address
from reports import changes, selectors
from reports.integration import sending
from reports.lifecycle import Status
from reports.live import events
from reports.models import (
    DESCRIPTION_MAX_LENGTH,
    ApiClient,
    Asset,
    Category,
    Handover,
    Municipality,
    Notification,
    Photo,
    Report,
    ReportEvent,
    Subscription,
)
from reports.notifications import links, outbox
from reports.photos import ProcessedPhoto, process_photo
from reports.privacy import mask_citizen_text, mask_identity_numbers
from reports.questions import validate_answers
from reports.routing import Decision, route
from reports.services import privacy

if TYPE_CHECKING:
    from django.contrib.auth.models import User

CITIZEN = "citizen"


def _language(code: str) -> str:
    """One of the service's languages (da, sv, en); Danish otherwise."""
    code = (code or "").split("-")[0].lower()
    return code if code in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


def route_report(municipality: Municipality, category: Category, location: Point
                 ) -> Decision:
    """The routing decision (reports.routing) for a category at a point."""
    area_ids = selectors.covering_area_ids(location)
    default = municipality.default_department
    return route(
        kle_number=category.kle.number,
        rules=selectors.routing_rules_for(municipality, category.kle.number, area_ids),
        covering_area_ids=area_ids,
        default_department=(default.id, default.name) if default else None,
    )


def expected_at(created_at: dt.datetime, category: Category) -> dt.datetime:
    """When handling of a report is due: its creation plus the category's handling time."""
    return created_at + dt.timedelta(hours=category.expected_handling_hours)


def sent_to(department_name: str, language: str) -> str:
    """The public timeline line for routing, in the reporter's language (it is stored text,
    shown on the report's page and in Open311's service_notice)."""
    with translation.override(language):
        return gettext("Sent to %(department)s.") % {"department": department_name}


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


def _chosen_asset(category: Category, location: Point, asset_id: int | None,
                  external_id: str | None) -> Asset | None:
    """The asset a report names, checked: of the category's active asset types, not
    removed, and within its type's select distance of the place given."""
    if asset_id is None and not external_id:
        return None
    field = "asset" if asset_id is not None else "attribute[asset_id]"
    assets = Asset.objects.filter(asset_type__categories=category, asset_type__active=True,
                                  asset_type__municipality_id=category.municipality_id,
                                  removed_at__isnull=True).select_related("asset_type")
    asset = (assets.filter(pk=asset_id) if asset_id is not None
             else assets.filter(external_id=str(external_id).strip())).first()
    if asset is None:
        raise InvalidInput("Some fields are invalid.", {field: [
            f"No asset {asset_id or external_id!r} of {category.name} here (it may have been "
            "removed): GET /api/v1/assets/nearest/ lists them."]})
    distance = haversine_m(asset.location, location)
    if distance > asset.asset_type.select_distance_m:
        raise InvalidInput("Some fields are invalid.", {field: [
            f"{asset.label} is {distance:.0f} m from the place given; at most "
            f"{asset.asset_type.select_distance_m} m."]})
    return asset


@dataclass(frozen=True)
class ClientInfo:
    """Who files a report through an API: the API client and its own references."""

    api_client: ApiClient | None = None
    device_id: str = ""
    account_id: str = ""
    media_url: str = ""


@transaction.atomic
def report_create(
    *,
    location: Point,
    category_code: str,
    description: str,
    address: str = "",
    reporter: Reporter | None = None,
    answers: dict | None = None,
    client: ClientInfo | None = None,
    photos: list[bytes] | None = None,
    source: str = Report.Source.API,
    language: str = "da",
    created_at: dt.datetime | None = None,
    filed_by: User | None = None,
    municipality_code: str | None = None,
    asset_id: int | None = None,
    asset_external_id: str | None = None,
) -> Report:
    """Validate, route and store a new report with the first rows of its timeline, its
    answers and photos. `filed_by`: the staff member who took it for a caller (phone,
    counter, mail); the timeline says so, to staff only. `municipality_code`: the
    municipality whose category was chosen (a staff form lists several); the place must lie
    in it. `asset_id` (REST) or `asset_external_id` (Open311): the asset the report is
    about, one of the category's asset types' within its select distance of `location`;
    the report is placed on the asset.

    Raises OutsideServiceArea (naming the nearest served municipality), UnknownCategory,
    InvalidInput, PermissionDenied (an API client outside its municipality) or a photo
    error; nothing is stored then.
    """
    _check_location(location)
    location = Point(location.x, location.y, srid=4326)
    text = _clean_description(description)
    client = client or ClientInfo()
    municipality = municipality_serving(location)
    api_client = client.api_client
    if api_client and api_client.municipality_id not in (None, municipality.pk):
        own = api_client.municipality
        raise PermissionDenied(f"This API key may only file reports in {own and own.name}.")
    if municipality_code is not None and municipality_code != municipality.code:
        raise InvalidInput(f"The place lies in {municipality.name}, not in the category's "
                           "municipality.", {"location": [
                               f"The place lies in {municipality.name}."]})
    category = selectors.category_for_report(municipality, category_code)
    if category is not None and filed_by is None and \
            category.visibility == category.Visibility.STAFF_ONLY:
        category = None  # staff file these; to anyone else the category does not exist
    if category is None:
        raise UnknownCategory(
            f"There is no category {category_code!r} in {municipality.name}.",
            {"category": [f"Unknown or inactive category in {municipality.name}: "
                          f"{category_code!r}. GET /api/v1/categories/?lon=&lat= lists them."]},
        )
    asset = _chosen_asset(category, location, asset_id, asset_external_id)
    if asset is not None:
        # Where the crew goes, the lamp and not the pin beside it: what is decided below
        # (stoppers, bodies, routing) is decided there.
        location = asset.location
    bodies = selectors.bodies_at(municipality, location)
    stoppers = [n for n in selectors.notices_at(municipality, location, language=language,
                                                category=category, here=bodies)
                if n.kind == "stopper"]
    if stoppers:  # the municipality is the wrong address here: say where to go instead
        stop = stoppers[0]
        raise InvalidInput(stop.text, {"category": [" ".join(
            part for part in (stop.text, stop.link, stop.phone) if part)]})
    private = privacy.is_category_private(category)
    decision = route_report(municipality, category, location)
    # Another body is responsible here (a stop rule was refused above with the stoppers):
    # the report is theirs; the department keeps it on its list.
    body = bodies.forwarding(category.kle.number)
    clean_answers, errors = validate_answers(category.questions.all(), answers or {})
    reporter = reporter or Reporter()
    if not category.anonymous_allowed and not (reporter.email or reporter.phone):
        errors["reporter"] = [f"{category.name} needs an email address or a phone number, "
                              "so that the municipality can reach you."]
    needs_confirmation = (source == Report.Source.WEB
                          and municipality.confirm_anonymous_reports)
    if needs_confirmation and not reporter.email:
        errors["reporter.email"] = [f"{municipality.name} confirms reports by mail: give your "
                                    "email address."]
    if len(photos or []) > settings.PHOTO_MAX_PER_REPORT:  # counted before any is decoded
        errors["photos"] = [f"At most {settings.PHOTO_MAX_PER_REPORT} photos per report."]
    if errors:
        raise InvalidInput("Some fields are invalid.", errors)
    processed = [process_photo(data, field=f"photos.{i}") for i, data in enumerate(photos or [])]
    if decision.department_id is None:
        raise UnknownCategory(
            f"{municipality.name} has no department for this category yet.",
            {"category": ["No department handles this category here."]},
        )
    # The address is shown publicly everywhere (API, Open311, feed titles, pages) and is no
    # place for an identity number: it is stored masked.
    address = mask_identity_numbers((address or "").strip())
    if not address:
        found = nearest_address(location, max_distance_m=settings.REPORT_ADDRESS_MAX_DISTANCE_M)
        address = found.address.label if found else ""
    now = created_at or timezone.now()
    report = Report.objects.create(
        municipality=municipality,
        category=category,
        department_id=decision.department_id,
        location=location,
        address=address[:300],
        description=text,
        public_description=mask_citizen_text(text),
        answers=clean_answers,
        status=Status.SUBMITTED,
        needs_triage=decision.needs_triage,
        routing_explanation=(decision.explanation if body is None else
                             f"{body.explanation} · {decision.explanation}")[:500],
        responsible_body_id=body.body_id if body is not None else None,
        reporter_name=reporter.name.strip(),
        reporter_email=reporter.email.strip(),
        reporter_phone=reporter.phone.strip(),
        source=source,
        confirmed_at=None if needs_confirmation else now,
        private=private,
        private_reason=privacy.category_reason(category) if private else "",
        private_at=now if private else None,
        language=_language(language),
        api_client=client.api_client,
        device_id=client.device_id[:100],
        account_id=client.account_id[:100],
        media_url=client.media_url[:500],
        asset=asset,
        asset_label=asset.label if asset is not None else "",
        created_at=now,
        updated_at=now,
        expected_at=expected_at(now, category),
    )
    for photo in processed:
        _store_photo(report, photo)
    ReportEvent.objects.bulk_create([
        ReportEvent(report=report, kind=ReportEvent.Kind.CREATED, actor_label=CITIZEN,
                    actor=filed_by, to_status=Status.SUBMITTED, created_at=now,
                    internal_text=f"Taken by {filed_by.get_username()} for a citizen "
                                  f"({source})." if filed_by else ""),
        ReportEvent(report=report, kind=ReportEvent.Kind.ROUTED, actor_label="OS2geo",
                    public_text=sent_to(body.body_name if body is not None
                                        else decision.department_name, report.language),
                    internal_text=decision.explanation, created_at=now),
    ])
    report.refresh_from_db(fields=["public"])
    if needs_confirmation:
        outbox.enqueue_report_confirmation(report)
    else:
        announce(report, now)
    return report


def announce(report: Report, now: dt.datetime) -> None:
    """A report is in for the first time (confirmed, not hidden): the reporter follows it,
    the department is mailed, webhooks, back offices and the live `report.created` go out,
    and, when it is public, area alerts. Once per report, whichever way it got there
    (filed, confirmed, or shown again by staff). A private report is announced to staff,
    back offices and its reporter only."""
    if report.announced_at is not None or report.confirmed_at is None or report.hidden:
        return
    report.announced_at = now
    Report.objects.filter(pk=report.pk).update(announced_at=now)
    follow = None
    if report.reporter_email:
        # The reporter follows their own report from the start (they gave the address).
        follow, _ = Subscription.objects.get_or_create(
            report=report, email=report.reporter_email.lower(),
            defaults={"confirmed_at": now, "language": report.language})
    outbox.enqueue_report_created(report, reporter_subscription=follow)
    if report.responsible_body_id is not None:
        forward_to_body(report, now)
    if report.public:
        outbox.enqueue_alerts_for(report)
    events.report_changed(events.CREATED, report)


def forward_to_body(report: Report, now: dt.datetime) -> None:
    """Send a report to the body responsible for it: over Open311 when a destination takes
    that body's reports (enqueued with the report's other sends), else by mail as a
    handover (a signed link to reply, add photos, mark it done or refuse it)."""
    body = report.responsible_body
    if body is None:
        return
    if any(d.body_id == body.pk for d in sending.destinations_for(report)):
        # Once per report and destination, whether or not the report's announcement did it.
        Notification.objects.bulk_create(sending.enqueue_requests(report))
        return
    if not body.email:  # a rule's check asks for one; the body changed since
        ReportEvent.objects.create(
            report=report, kind=ReportEvent.Kind.HANDOVER, actor_label="OS2geo",
            created_at=now, internal_text=f"{body.name} has no e-mail address or Open311 "
                                          "destination: forward it by hand.")
        return
    with translation.override(settings.LANGUAGE_CODE):
        instructions = gettext("Reported at a place where %(body)s is responsible; "
                               "%(municipality)s forwards it to you.") % {
            "body": body.name, "municipality": report.municipality.name}
    handover = Handover.objects.create(
        report=report, party=body.name[:200], email=body.email, instructions=instructions,
        sent_at=now, expires_at=now + dt.timedelta(days=settings.HANDOVER_LINK_DAYS),
        language=settings.LANGUAGE_CODE)
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.HANDOVER,
                               actor_label="OS2geo", created_at=now,
                               internal_text=f"Forwarded to {body.name} <{body.email}>.")
    outbox.enqueue_handover(handover, links.url("handover", handover.pk))


@dataclass(frozen=True)
class Confirmation:
    report: Report
    first: bool  # False: the link had been used before, and did nothing this time


@transaction.atomic
def report_confirm(*, token: str) -> Confirmation:
    """The reporter confirmed a web report by its signed link. The link works once: a
    second use changes nothing (it never publishes or announces a report again, hidden or
    not). A report hidden by staff meanwhile stays hidden."""
    report_id = links.read("report-confirm", token)
    try:
        report = changes.lock(report_id)
    except NotFound:
        raise links.BadToken("This report has expired; file it again.") from None
    if report.confirmed_at is not None:
        return Confirmation(report, first=False)
    now = timezone.now()
    report.confirmed_at = now
    changes.record(report, kind=ReportEvent.Kind.CONFIRMED, fields=("confirmed_at",),
                   actor_label=CITIZEN, at=now, event=None)
    announce(report, now)
    return Confirmation(report, first=True)


def reports_expire_unconfirmed() -> int:
    """Delete web reports whose confirmation never came within REPORT_CONFIRM_HOURS."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.REPORT_CONFIRM_HOURS)
    _, by_model = Report.objects.filter(confirmed_at__isnull=True, hidden=False,
                                        created_at__lt=cutoff).delete()
    return by_model.get(Report._meta.label, 0)


@transaction.atomic
def photo_add(*, report_id: int, data: bytes) -> Photo:
    """Validate, re-encode and store one more photo of a report; an event follows."""
    report = changes.lock(report_id)
    if report.photos.count() >= settings.PHOTO_MAX_PER_REPORT:
        raise InvalidInput("Too many photos.", {
            "photo": [f"At most {settings.PHOTO_MAX_PER_REPORT} photos per report."]})
    photo = _store_photo(report, process_photo(data))
    changes.record(report, kind=ReportEvent.Kind.PHOTO, actor_label=CITIZEN,
                   internal_text=f"Photo {photo.width}x{photo.height} added.")
    return photo


def _store_photo(report: Report, processed: ProcessedPhoto) -> Photo:
    """Write both files through Django's storage (server-generated names) and record them.

    Photos are validated and re-encoded before anything is written; only a database failure
    after this point could leave the two files without a row.
    """
    image = default_storage.save(processed.name, ContentFile(processed.image))
    thumbnail = default_storage.save(processed.thumbnail_name, ContentFile(processed.thumbnail))
    return Photo.objects.create(
        report=report, image=image, thumbnail=thumbnail, url=_absolute(default_storage.url(image)),
        thumbnail_url=_absolute(default_storage.url(thumbnail)), width=processed.width,
        height=processed.height, bytes=len(processed.image),
    )


def _absolute(url: str) -> str:
    return url if url.startswith(("http://", "https://")) else f"{settings.SITE_URL}{url}"
