"""Reads for the staff dashboard. Every one starts from the user's scope
(selectors.staff_department_ids): a report outside it does not exist here."""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.contrib.auth import get_user_model
from django.db.models import (
    Avg,
    BooleanField,
    Case,
    Count,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    Min,
    OrderBy,
    OuterRef,
    Q,
    QuerySet,
    Value,
    When,
)
from django.utils import timezone

from maps.models import Area
from maps.selectors import within_metres
from reports.lifecycle import OPEN_STATUSES, Status
from reports.models import (
    AssetType,
    Category,
    Department,
    FollowUp,
    KleSubject,
    Municipality,
    ReopenRequest,
    Report,
    ReportEvent,
    ResponseTemplate,
    StaffMembership,
)
from reports.selectors import staff_department_ids

if TYPE_CHECKING:
    from django.contrib.auth.models import User

SORTS: dict[str, tuple[str | OrderBy, str]] = {
    "newest": ("-created_at", "-id"),
    "oldest": ("created_at", "id"),
    "due": (F("expected_at").asc(nulls_last=True), "id"),
    "priority": ("-priority_rank", "created_at"),
    "updated": ("-updated_at", "-id"),
}


@dataclass
class QueueFilters:
    statuses: list[str] = field(default_factory=list)
    category: str = ""
    kle_prefix: str = ""
    area_id: int | None = None
    department_id: int | None = None
    asset_type_id: int | None = None
    assigned_to_me: bool = False
    older_than_days: int | None = None
    overdue: bool = False
    q: str = ""
    sort: str = "newest"


def staff_reports(user: User) -> QuerySet[Report]:
    """Every report the user may see (hidden and unconfirmed ones included)."""
    return Report.objects.filter(department_id__in=staff_department_ids(user))


def staff_report(user: User, report_id: int) -> Report | None:
    return (staff_reports(user).select_related("category__kle", "department", "municipality",
                                               "assigned_to", "duplicate_of",
                                               "responsible_body", "asset__asset_type")
            .prefetch_related("photos").filter(pk=report_id).first())


def external_cases(report: Report) -> list:
    """The report's cases in back-office systems (reports.integration), oldest first."""
    return list(report.external_cases.select_related("destination").order_by("id"))


def reporter_questions(report: Report) -> list:
    """Questions to the report's reporter, newest first (the open one, if any, on top)."""
    return list(report.questions.select_related("asked_by").order_by("-asked_at"))


def handovers(report: Report) -> list:
    """Who the case was handed to, newest first."""
    return list(report.handovers.select_related("sent_by").order_by("-sent_at"))


def redactions(report: Report) -> list:
    """What staff removed from the report, newest first (the passage until its purge)."""
    return list(report.redactions.select_related("actor", "photo"))


def follow_ups(report: Report) -> list:
    """The answers to "is it fixed?", newest first."""
    return list(report.follow_ups.all())


def asset_history(report: Report, *, days: int = 365) -> list[Report]:
    """The other reports on the report's asset in the last `days`, newest first (their
    number, date, status and category: enough to see a lamp that keeps failing)."""
    if report.asset_id is None:
        return []
    since = timezone.now() - dt.timedelta(days=days)
    return list(Report.objects.filter(asset_id=report.asset_id, created_at__gte=since)
                .exclude(pk=report.pk).select_related("category").order_by("-created_at")
                .only("id", "created_at", "status", "category__name")[:50])


def asset_types_for(categories: QuerySet[Category]) -> QuerySet[AssetType]:
    """The asset types of these categories (the queue's filter)."""
    return AssetType.objects.filter(categories__in=categories).distinct().order_by("name")


def asset_fields(report: Report) -> list[tuple[str, object]]:
    """The asset's kept properties as (label, value), in its type's order."""
    if report.asset is None:
        return []
    return [(f.get("label") or f["key"], report.asset.properties.get(f["key"]))
            for f in report.asset.asset_type.fields
            if report.asset.properties.get(f["key"]) not in (None, "")]


def open_reopen_request(report: Report) -> ReopenRequest | None:
    """The reporter's open request to reopen the report, if any."""
    return report.reopen_requests.select_related("follow_up").filter(state="open").first()


def staff_queue(user: User, filters: QueueFilters) -> QuerySet[Report]:
    """The user's queue with the dashboard's filters and sort."""
    qs = staff_reports(user).select_related("category", "department", "assigned_to")
    if filters.statuses:
        # A resolved report whose reporter says it is not fixed waits with the open ones.
        # Their ids first (few, from a partial index), so that the usual queue without any
        # keeps its index-only count (tests/reports/staff/test_queue_plan.py).
        waiting = list(ReopenRequest.objects.filter(
            state="open", report__department_id__in=staff_department_ids(user))
            .values_list("report_id", flat=True)) \
            if set(filters.statuses) & set(OPEN_STATUSES) else []
        qs = qs.filter(Q(status__in=filters.statuses) | Q(pk__in=waiting)) if waiting else \
            qs.filter(status__in=filters.statuses)
    if filters.category:
        qs = qs.filter(category__code=filters.category)
    if filters.kle_prefix:
        qs = qs.filter(category__kle__in=KleSubject.objects.filter(
            number__startswith=filters.kle_prefix))
    if filters.area_id:
        area = Area.objects.filter(pk=filters.area_id).only("geom").first()
        qs = qs.filter(location__intersects=area.geom) if area else qs.none()
    if filters.department_id:
        qs = qs.filter(department_id=filters.department_id)
    if filters.asset_type_id:
        qs = qs.filter(asset__asset_type_id=filters.asset_type_id)
    if filters.assigned_to_me:
        qs = qs.filter(assigned_to=user)
    if filters.older_than_days:
        qs = qs.filter(created_at__lt=timezone.now() - dt.timedelta(days=filters.older_than_days))
    if filters.overdue:
        qs = qs.filter(overdue_q())
    if filters.q:
        text = filters.q.strip().lstrip("#")
        match = (Q(description__icontains=text) | Q(address__icontains=text)
                 | Q(asset_label__icontains=text) | Q(asset__external_id=text))
        if text.isdigit():
            match |= Q(pk=int(text))
        qs = qs.filter(match)
    qs = qs.annotate(is_overdue=ExpressionWrapper(overdue_q(), output_field=BooleanField()),
                     priority_rank=Case(
        When(priority="urgent", then=Value(3)), When(priority="high", then=Value(2)),
        When(priority="normal", then=Value(1)), default=Value(0), output_field=IntegerField()))
    return qs.order_by(*SORTS.get(filters.sort, SORTS["newest"]))


def queue_row(user: User, report_id: int) -> Report | None:
    """One report as a queue row shows it (live updates swap rows in)."""
    return staff_queue(user, QueueFilters()).filter(pk=report_id).first()


def active_categories(municipality: Municipality) -> QuerySet[Category]:
    """The categories a report of the municipality can be moved to."""
    return municipality.categories.filter(active=True).order_by("name")


def staff_changes_since(user: User, since: dt.datetime, after_id: int | None = None,
                        limit: int = 500) -> list[dict[str, Any]]:
    """Reports in the user's scope changed after (`since`, `after_id`), oldest change first,
    at most `limit`: what a dashboard that may have missed live events fetches to catch up,
    page by page (the last row's updated_at and id continue it)."""
    after = Q(updated_at__gt=since)
    if after_id is not None:
        after |= Q(updated_at=since, id__gt=after_id)
    return [dict(row) for row in staff_reports(user).filter(after).order_by("updated_at", "id")
            .values("id", "version", "created_at", "updated_at")[:limit]]


def overdue_q(now: dt.datetime | None = None) -> Q:
    return Q(status__in=list(OPEN_STATUSES), expected_at__lt=now or timezone.now())


def staff_timeline(report: Report) -> QuerySet[ReportEvent]:
    """The whole timeline, internal rows included, oldest first."""
    return report.events.select_related("actor").order_by("created_at", "id")


def duplicate_candidates(report: Report, user: User, radius_m: float = 300, limit: int = 8
                         ) -> list[Report]:
    """Open public reports in the user's departments near this one (the likely originals;
    reports.services.duplicate_target accepts exactly these kinds)."""
    return list(
        staff_reports(user).filter(municipality_id=report.municipality_id, public=True,
                                   status__in=list(OPEN_STATUSES))
        .exclude(pk=report.pk)
        .filter(within_metres(report.location, radius_m))
        .select_related("category").order_by("created_at")[:limit])


def _active_users_with(memberships: QuerySet[StaffMembership]) -> QuerySet[User]:
    return (get_user_model().objects.filter(is_active=True, memberships__in=memberships)
            .distinct().order_by("username"))


def colleagues_for(report: Report) -> QuerySet[User]:
    """Active users who may handle the report's department (assignment choices)."""
    return _active_users_with(StaffMembership.objects.filter(
        Q(department_id=report.department_id)
        | Q(municipality_id=report.municipality_id,
            role=StaffMembership.Role.MUNICIPALITY_ADMIN)))


def colleagues_in_scope(user: User) -> QuerySet[User]:
    """Active users in any of the user's departments (bulk assignment choices)."""
    return _active_users_with(StaffMembership.objects.filter(
        department_id__in=staff_department_ids(user)))


def response_templates_for(report: Report) -> list[ResponseTemplate]:
    return list(ResponseTemplate.objects.filter(
        Q(category__isnull=True) | Q(category_id=report.category_id),
        municipality_id=report.municipality_id).order_by("title"))


def departments_for(user: User) -> QuerySet[Department]:
    return Department.objects.filter(pk__in=staff_department_ids(user)).select_related(
        "municipality").order_by("municipality__name", "name")


def districts_for(departments: list[Department]) -> QuerySet[Area]:
    """The districts of the departments' municipalities (the queue's district filter)."""
    return Area.objects.filter(kind=Area.Kind.DISTRICT, parent__code__in={
        d.municipality.code for d in departments}).order_by("name")


def categories_for(user: User) -> QuerySet[Category]:
    municipalities = departments_for(user).values("municipality_id")
    return Category.objects.filter(municipality_id__in=municipalities).order_by("name")


@dataclass
class Statistics:
    by_status: list[tuple[str, int]]
    by_category: list[tuple[str, int]]
    by_department: list[tuple[str, int]]
    by_channel: list[tuple[str, int]]
    median_hours_to_acknowledge: float | None
    median_hours_to_resolve: float | None
    overdue: int
    total: int
    # "Is it fixed?" per department and per category (follow_up_figures).
    follow_up_by_department: list[dict] = field(default_factory=list)
    follow_up_by_category: list[dict] = field(default_factory=list)
    # Per asset type: reports naming one of its assets, and how many distinct assets.
    by_asset_type: list[dict] = field(default_factory=list)


def follow_up_figures(reports: QuerySet[Report], by: str) -> list[dict]:
    """Follow-ups of these reports grouped by `by` (a lookup naming the group): sent,
    answered, response rate, mean satisfaction, and the reopen rate (not fixed among the
    answered), as the statistics page and its CSV show them."""
    rows = (FollowUp.objects.filter(report__in=reports).values(group=F(by))
            .annotate(sent=Count("id"), answered=Count("id", filter=Q(answered_at__isnull=False)),
                      not_fixed=Count("id", filter=Q(fixed=False)),
                      satisfaction=Avg("satisfaction"))
            .order_by("group"))
    return [{**row, "response_rate": row["answered"] / row["sent"] if row["sent"] else None,
             "reopen_rate": row["not_fixed"] / row["answered"] if row["answered"] else None}
            for row in rows]


def staff_statistics(user: User, since: dt.datetime, until: dt.datetime) -> Statistics:
    """Counts of the reports filed in [since, until) that the user may see, and the median
    time from filing to the first acknowledgement and to resolution."""
    qs = staff_reports(user).filter(created_at__gte=since, created_at__lt=until)
    by_status = dict(qs.values_list("status").annotate(n=Count("id")))
    by_category = list(qs.values_list("category__name").annotate(n=Count("id"))
                       .order_by("-n", "category__name"))
    by_department = list(qs.values_list("department__name").annotate(n=Count("id"))
                         .order_by("-n", "department__name"))
    by_channel = [(str(Report.Source(source).label), n) for source, n in
                  qs.values_list("source").annotate(n=Count("id")).order_by("-n", "source")]
    firsts = (ReportEvent.objects.filter(report__in=qs, kind=ReportEvent.Kind.STATUS)
              .values("report_id", "to_status").annotate(at=Min("created_at")))
    created = dict(qs.values_list("id", "created_at"))
    to_resolve = []
    acknowledged: dict[int, float] = {}
    for row in firsts:
        hours = (row["at"] - created[row["report_id"]]).total_seconds() / 3600
        if row["to_status"] == Status.RESOLVED:
            to_resolve.append(hours)
        if row["to_status"] != Status.SUBMITTED:
            previous = acknowledged.get(row["report_id"])
            acknowledged[row["report_id"]] = hours if previous is None else min(previous, hours)
    to_ack = list(acknowledged.values())
    return Statistics(
        by_status=[(str(s.label), by_status.get(s.value, 0)) for s in Status],
        by_category=by_category, by_department=by_department, by_channel=by_channel,
        median_hours_to_acknowledge=statistics.median(to_ack) if to_ack else None,
        median_hours_to_resolve=statistics.median(to_resolve) if to_resolve else None,
        overdue=qs.filter(overdue_q()).count(), total=sum(by_status.values()),
        follow_up_by_department=follow_up_figures(qs, "report__department__name"),
        follow_up_by_category=follow_up_figures(qs, "report__category__name"),
        by_asset_type=[dict(row) for row in qs.filter(asset__isnull=False)
                       .values(name=F("asset__asset_type__name"))
                       .annotate(reports=Count("id"), assets=Count("asset", distinct=True))
                       .order_by("-reports", "name")])


EXPORT_FIELDS = ("id", "created_at", "status", "priority", "expected_at", "category__code",
                 "category__name", "department__name", "municipality__code", "address",
                 "description", "reporter_name", "reporter_email", "reporter_phone",
                 "assigned_to__username", "hidden", "updated_at", "source",
                 "follow_up_fixed", "follow_up_satisfaction", "reopen_requested",
                 "responsible_body__name", "asset__asset_type__code", "asset__external_id",
                 "asset_label")


def export_rows(queue: QuerySet[Report], chunk_size: int = 2000) -> Iterator[tuple[Any, ...]]:
    """The queue's rows for CSV, read from the database in chunks (a server-side cursor),
    so that memory does not grow with the queue."""
    answers = FollowUp.objects.filter(report=OuterRef("pk"), answered_at__isnull=False)
    queue = queue.annotate(
        # The reporter's answer to "is it fixed?" (a follower's when the reporter gave none).
        follow_up_fixed=answers.order_by("-reporter", "answered_at").values("fixed")[:1],
        follow_up_satisfaction=answers.values("report").annotate(
            mean=Avg("satisfaction")).values("mean")[:1],
        reopen_requested=Exists(ReopenRequest.objects.filter(report=OuterRef("pk"))))
    yield from queue.values_list(*EXPORT_FIELDS).iterator(chunk_size=chunk_size)
