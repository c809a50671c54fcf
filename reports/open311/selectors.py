"""Reads for the Open311 API: public service requests with what one page needs, their
updates, tokens. Filters are reports.selectors.ReportFilters, as for the REST API."""

from __future__ import annotations

import datetime as dt

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery

from reports import selectors
from reports.models import Municipality, Report, ReportEvent

# What Open311 calls a request's updates: public status changes and replies.
UPDATE_KINDS = (ReportEvent.Kind.STATUS, ReportEvent.Kind.PUBLIC_REPLY)


def _latest_public_note() -> Subquery:
    return Subquery(
        ReportEvent.objects.filter(report=OuterRef("pk"), kind__in=UPDATE_KINDS)
        .exclude(public_text="").order_by("-created_at", "-id").values("public_text")[:1])


def _requests(qs: QuerySet[Report], *, extensions: bool) -> QuerySet[Report]:
    qs = (qs.filter(public=True)
          .select_related("category", "department", "municipality", "responsible_body",
                          "asset__asset_type")
          .prefetch_related(selectors.public_photos())
          .annotate(status_notes=_latest_public_note()))
    if extensions:  # the notes of a whole page in one query, not one per request
        qs = qs.prefetch_related(Prefetch("events", queryset=selectors.public_events(),
                                          to_attr="public_events"))
    return qs


def requests_page(filters: selectors.ReportFilters, *, offset: int, limit: int,
                  extensions: bool) -> list[Report]:
    """Public requests matching the filters, newest filed first."""
    qs = _requests(selectors.reports_filtered(filters), extensions=extensions)
    return list(qs.order_by("-created_at", "-id")[offset:offset + limit])


def request(report_id: int, *, extensions: bool) -> Report | None:
    return _requests(Report.objects.filter(pk=report_id), extensions=extensions).first()


def request_by_token(token: str) -> Report | None:
    return Report.objects.filter(token=token, public=True).only("id", "token").first()


def updates(*, since: dt.datetime, until: dt.datetime | None,
            municipality: Municipality | None, limit: int) -> list[ReportEvent]:
    """Public updates of public requests, oldest first (mySociety's extension)."""
    qs = (ReportEvent.objects.filter(kind__in=UPDATE_KINDS, created_at__gte=since,
                                     report__public=True).select_related("report"))
    if until is not None:
        qs = qs.filter(created_at__lte=until)
    if municipality is not None:
        qs = qs.filter(report__municipality=municipality)
    return list(qs.order_by("created_at", "id")[:limit])
