"""Open311 GeoReport v2 under /open311/v2/ (see docs/open311.md). Thin: read the form-style
parameters (params), call selectors and services, render the documents (output) as JSON or
XML (formats). Every refusal is an application error that geoservice.errors renders in
the spec's error list."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from geoservice.errors import (
    InvalidInput,
    MethodNotAllowed,
    NotFound,
    as_application_error,
    render_error,
)
from geoservice.lib import replica
from reports import selectors, services
from reports.api import access
from reports.api.idempotency import run_idempotent
from reports.models import ApiClient, Report
from reports.open311 import output, params
from reports.open311 import selectors as requests
from reports.open311.formats import render
from reports.photos import read_uploads

UPDATES_DEFAULT_DAYS = 7


def endpoint(view: Callable) -> Callable:
    """Wrap a view: the format from the URL, and every refusal in the spec's shape."""

    @csrf_exempt
    def wrapped(request: HttpRequest, fmt: str | None = None, **kwargs) -> HttpResponse:
        try:
            return view(request, fmt or "json", **kwargs)
        except Exception as exc:
            error = as_application_error(exc)
            if error is None:
                raise
            return render_error(request, error)

    return wrapped


def _methods(request: HttpRequest, *allowed: str) -> None:
    if request.method not in allowed:
        raise MethodNotAllowed(f"Use {' or '.join(allowed)}.")


# --- discovery and services ---------------------------------------------------------------

@endpoint
def discovery(request, fmt):
    _methods(request, "GET")
    return render(output.discovery(request.build_absolute_uri("/open311/v2/")), fmt,
                  "discovery")


@endpoint
@replica.public_read
def services_list(request, fmt):
    _methods(request, "GET")
    municipality = params.required_jurisdiction(request.GET)
    categories = selectors.categories_for_municipality(municipality)
    return render([output.service(c) for c in categories], fmt, "services")


@endpoint
def service_definition(request, fmt, service_code: str):
    _methods(request, "GET")
    municipality = params.required_jurisdiction(request.GET)
    category = selectors.categories_for_municipality(municipality).filter(
        code=service_code).first()
    if category is None:
        raise NotFound(f"No service {service_code!r} in {municipality.name}.")
    notices = selectors.notices_at(municipality, None, language="da", category=category)
    return render(output.service_definition(category, notices), fmt, "service_definition")


# --- requests ------------------------------------------------------------------------------

@endpoint
def requests_view(request, fmt):
    _methods(request, "GET", "POST")
    if request.method == "POST":
        return _post_request(request, fmt)
    return _list_requests(request, fmt)


@replica.public_read
def _list_requests(request, fmt):
    query = request.GET
    client = access.api_client_from_header(request) if "Authorization" in request.headers \
        else None
    access.check_rate(request, client, posting=False)
    extensions = query.get("extensions", "").lower() == "true"
    filters = params.request_filters(query, params.jurisdiction(query))
    page_size = params.whole(query, "page_size", params.MAX_PAGE_SIZE, 1, params.MAX_PAGE_SIZE)
    page = params.whole(query, "page", 1, 1, 1_000_000)
    found = requests.requests_page(filters, offset=(page - 1) * page_size, limit=page_size,
                                   extensions=extensions)
    return render([output.request(r, extensions=extensions) for r in found], fmt,
                  "service_requests")


@endpoint
@replica.public_read
def request_detail(request, fmt, request_id: str):
    _methods(request, "GET")
    extensions = request.GET.get("extensions", "").lower() == "true"
    report = requests.request(int(request_id), extensions=extensions) \
        if request_id.isdigit() else None
    if report is None:
        raise NotFound(f"No service request {request_id!r}.")
    return render([output.request(report, extensions=extensions)], fmt, "service_requests")


# On the primary, not the replica: a client asks for its token right after the POST, and
# an update poller that moves its window on must not skip what the replica has not replayed.
@endpoint
def token_detail(request, fmt, token: str):
    _methods(request, "GET")
    report = requests.request_by_token(token) \
        if re.fullmatch(r"[0-9a-fA-F-]{32,36}", token) else None
    if report is None:
        raise NotFound(f"No request with token {token!r}.")
    return render([{"service_request_id": str(report.pk), "token": str(report.token)}], fmt,
                  "service_requests")


@endpoint
def request_updates(request, fmt):
    """mySociety's extension: GET public status changes and replies, for syncing; POST a
    front end's update on a request it sent here."""
    _methods(request, "GET", "POST")
    if request.method == "POST":
        return _post_update(request, fmt)
    query = request.GET
    found = requests.updates(
        since=params.datetime(query, "start_date")
        or timezone.now() - dt.timedelta(days=UPDATES_DEFAULT_DAYS),
        until=params.datetime(query, "end_date"),
        municipality=params.jurisdiction(query),
        limit=params.whole(query, "page_size", params.MAX_PAGE_SIZE, 1, params.MAX_PAGE_SIZE))
    return render([output.update(event) for event in found], fmt, "service_request_updates")


# --- posting --------------------------------------------------------------------------------

def _posting(request, handler: Callable[[ApiClient], HttpResponse]):
    """A POST with the form's api_key: the client's rate, then `handler(client)` at most
    once per Idempotency-Key."""
    key = request.POST.get("api_key")
    client = access.client_for_key(key) if key else None
    if client is None:
        raise access.InvalidApiKey("api_key is missing or not valid.")
    access.check_rate(request, client, posting=True)
    return run_idempotent(request, access.idempotency_scope(request, client),
                          lambda: handler(client))


def _post_request(request, fmt):
    return _posting(request, lambda client: _create(request, fmt, client))


def _create(request, fmt, client) -> HttpResponse:
    post = request.POST
    service_code = (post.get("service_code") or "").strip()
    if not service_code:
        raise InvalidInput("service_code is required.")
    location = params.location(post)
    jurisdiction = params.jurisdiction(post)
    municipality = services.municipality_serving(location)
    if jurisdiction and jurisdiction != municipality:
        raise InvalidInput(f"The location lies in {municipality.name}, not in jurisdiction "
                           f"{jurisdiction.code}.")
    name = " ".join(p for p in (post.get("first_name", "").strip(),
                                post.get("last_name", "").strip()) if p)
    email = params.email(post)
    media_url = params.media_url(post)
    answers = params.answers(post)
    # The asset, as its owner's id (the number on the lamp post): the service definition's
    # `asset_id` attribute, so existing clients send it as any other attribute.
    asset = answers.pop(output.ASSET_ATTRIBUTE, None)
    report = services.report_create(
        location=location, category_code=service_code,
        description=post.get("description", ""), address=post.get("address_string", ""),
        reporter=services.Reporter(name=name[:200], email=email,
                                   phone=post.get("phone", "").strip()[:40]),
        answers=answers, photos=read_uploads(request.FILES.getlist("media"), "media"),
        asset_external_id=asset if isinstance(asset, str) and asset.strip() else None,
        client=services.ClientInfo(api_client=client, device_id=post.get("device_id", ""),
                                   account_id=post.get("account_id", ""), media_url=media_url),
        source=Report.Source.OPEN311,
    )
    notices = [n for n in selectors.notices_at(report.municipality, report.location,
                                               language=report.language,
                                               category=report.category)
               if n.kind == "notice"]
    return render([output.created(report, notices)], fmt, "service_requests", status=201)


def _post_update(request, fmt):
    return _posting(request, lambda client: _update(request, fmt, client))


def _update(request, fmt, client) -> HttpResponse:
    post = request.POST
    missing = [name for name in ("service_request_id", "update_id")
               if not (post.get(name) or "").strip()]
    if missing:
        raise InvalidInput(f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                           "required.")
    name = " ".join(p for p in (post.get("first_name", "").strip(),
                                post.get("last_name", "").strip()) if p and p != "-")
    record, first = services.report_citizen_update(client=client, update=services.CitizenUpdate(
        their_update_id=post["update_id"].strip()[:200],
        service_request_id=post["service_request_id"].strip(),
        description=post.get("description", ""),
        status=post.get("status", "").strip(), name=name[:200], email=params.email(post),
        phone=post.get("phone", "").strip()[:40], media_url=params.media_url(post),
        updated_at=params.datetime(post, "updated_datetime")))
    return render([{"update_id": str(record.event_id)}], fmt, "service_request_updates",
                  status=201 if first else 200)
