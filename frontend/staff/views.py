"""The staff dashboard: queue, report detail with every triage action, bulk actions,
statistics and CSV export. Thin: forms in, one service or selector call, a page out. The
scope rule lives in the selectors and services (a report outside the user's departments is
a 404 here, whatever the URL)."""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from frontend.staff import forms
from frontend.views import map_config
from geoservice.errors import ApplicationError, StaleVersion
from maps.selectors import AddressNotFound, address_named
from reports import services
from reports.api.idempotency import run_idempotent
from reports.integration import sending
from reports.lifecycle import OPEN_STATUSES, TRANSITIONS, Status
from reports.selectors import staff_department_ids
from reports.services import casework, followup, moderation, privacy
from reports.staff import selectors as staff
from reports.staff import triage

PAGE_SIZE = 50
CHANGES_PAGE = 500


def staff_required(view):
    """Logged in, and handling at least one department; otherwise the login page or 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/staff/login/")
        if not staff_department_ids(request.user):
            raise PermissionDenied("You handle no department.")
        return view(request, *args, **kwargs)

    return wrapped


def _queue_form(request, departments):
    categories = staff.categories_for(request.user).select_related("municipality")
    return forms.QueueFilterForm(
        request.GET or None, categories=categories, departments=departments,
        areas=staff.districts_for(departments), asset_types=staff.asset_types_for(categories))


@staff_required
def queue(request):
    departments = list(staff.departments_for(request.user))
    form = _queue_form(request, departments)
    filters = form.filters() if request.GET else staff.QueueFilters(
        statuses=sorted(OPEN_STATUSES))
    reports = staff.staff_queue(request.user, filters)
    page = Paginator(reports, PAGE_SIZE).get_page(request.GET.get("page"))
    now = timezone.now()
    rows = list(page.object_list)
    features = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "id": r.pk,
         "geometry": {"type": "Point", "coordinates": [r.location.x, r.location.y]},
         "properties": {"status": r.status}} for r in rows]}
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "frontend/staff/queue.html", {
        "form": form, "page": page, "rows": rows, "now": now, "features": features,
        "query": query.urlencode(), "statuses": Status.choices,
        "departments": departments,
        "colleagues": staff.colleagues_in_scope(request.user),
        "config": {**map_config(), "since": now.isoformat()},
    })


@staff_required
def queue_changes(request):
    """JSON: the reports in the user's scope changed after `updated_after`, for a queue that
    reconnects after live events may have been lost (docs/live.md), CHANGES_PAGE at a time
    with a `next` link; "new" marks reports filed after `new_after` (the first page's
    `updated_after`)."""
    since = parse_datetime(request.GET.get("updated_after", "") or "")
    new_after = parse_datetime(request.GET.get("new_after", "") or "") or since
    after_id = request.GET.get("after_id", "")
    if since is None or since.tzinfo is None or new_after.tzinfo is None or (
            after_id and not after_id.isdigit()):
        return JsonResponse({"message": "Give updated_after as an ISO 8601 time with an "
                                        "offset.", "errors": {"updated_after": ["Required."]}},
                            status=400)
    now = timezone.now()
    changes = staff.staff_changes_since(request.user, since,
                                        int(after_id) if after_id else None, CHANGES_PAGE)
    next_url = None
    if len(changes) == CHANGES_PAGE:
        last = changes[-1]
        next_url = "/staff/changes?" + urlencode({
            "updated_after": last["updated_at"].isoformat(), "after_id": last["id"],
            "new_after": new_after.isoformat()})
    return JsonResponse({"now": now.isoformat(), "next": next_url, "reports": [
        {"id": c["id"], "version": c["version"], "new": c["created_at"] > new_after}
        for c in changes]})


@staff_required
def queue_row(request, report_id: int):
    """One queue row, for live updates (the dashboard swaps it in without a reload)."""
    report = staff.queue_row(request.user, report_id)
    if report is None:
        raise Http404("No such report")
    return render(request, "frontend/staff/_row.html", {"r": report, "now": timezone.now()})


def _report_or_404(request, report_id: int):
    report = staff.staff_report(request.user, report_id)
    if report is None:
        raise Http404("No such report")
    return report


def _simple_actions(report, action_forms: dict) -> list[tuple]:
    """The actions whose form is all the page shows of them: (name, legend, button, form)."""
    panels = [
        ("reply", _("Public reply"), _("Send reply")),
        ("note", _("Internal note"), _("Add note")),
        ("assign", _("Assign"), _("Assign")),
        ("priority", _("Priority and due date"), _("Save")),
        ("reroute", _("Re-route"), _("Re-route")),
        ("category", _("Category (routes again)"), _("Change category")),
        ("move", _("Move the pin (routes again)"), _("Move")),
        ("unhide", _("Hidden from the public"), _("Show it to the public again"))
        if report.hidden else ("hide", _("Hide from the public"), _("Hide")),
        ("unprivate", _("Private"), _("Make it public again"))
        if report.private and report.private_by_id else
        ("private", _("Make private"), _("Make private")) if not report.private else None,
        ("ask", _("Ask the reporter"), _("Send the question")),
        ("redact", _("Remove a passage (a name, a number plate)"), _("Remove")),
        ("redact-photo", _("Remove a photo"), _("Remove the photo"))
        if action_forms["redact-photo"].fields["photo"].choices else None,
        ("handover", _("Hand to an external party"), _("Send the case")),
    ]
    return [(name, legend, button, action_forms[name])
            for name, legend, button in filter(None, panels)]


def _detail_context(request, report, **extra) -> dict:
    next_statuses = [(s.value, s.label) for s in Status
                     if s in TRANSITIONS.get(Status(report.status), ())]
    action_forms = forms.action_forms(
        report, next_statuses=next_statuses,
        departments=report.municipality.departments.order_by("name"),
        categories=staff.active_categories(report.municipality),
        colleagues=staff.colleagues_for(report))
    cases = staff.external_cases(report)
    return {
        "report": report, "timeline": staff.staff_timeline(report),
        "cases": cases, "send_state": sending.send_state(cases),
        "questions": staff.reporter_questions(report), "handovers": staff.handovers(report),
        "redactions": staff.redactions(report), "follow_ups": staff.follow_ups(report),
        "reopen": staff.open_reopen_request(report),
        "asset_history": staff.asset_history(report),
        "asset_fields": staff.asset_fields(report),
        "reopen_decline_form": forms.ReopenDeclineForm(initial={"version": report.version}),
        "retry_form": forms.VersionedForm(initial={"version": report.version}),
        "photos": list(report.photos.all()),
        "candidates": staff.duplicate_candidates(report, request.user),
        "templates": staff.response_templates_for(report),
        "next_statuses": next_statuses, "forms": action_forms,
        "simple_actions": _simple_actions(report, action_forms),
        "now": timezone.now(),
        "config": {**map_config(), "report": {"id": report.pk, "version": report.version,
                                               "lon": report.location.x,
                                               "lat": report.location.y}},
        **extra,
    }


@staff_required
def detail(request, report_id: int):
    report = _report_or_404(request, report_id)
    return render(request, "frontend/staff/detail.html", _detail_context(request, report))


ACTIONS = {
    "status": (forms.StatusForm, lambda user, r, d: triage.report_set_status(
        actor=user, report_id=r, to_status=d["status"], public_text=d["public_text"],
        internal_text=d["internal_text"], expected_version=d["version"])),
    "merge": (forms.MergeForm, lambda user, r, d: triage.report_merge(
        actor=user, report_id=r, into_id=d["into"], public_text=d["public_text"],
        expected_version=d["version"])),
    "reroute": (forms.RerouteForm, lambda user, r, d: triage.report_reroute(
        actor=user, report_id=r, department_id=d["department"], reason=d["reason"],
        expected_version=d["version"])),
    "category": (forms.CategoryForm, lambda user, r, d: triage.report_change_category(
        actor=user, report_id=r, category_code=d["category"], expected_version=d["version"])),
    "move": (forms.MoveForm, lambda user, r, d: triage.report_move(
        actor=user, report_id=r, location=Point(d["lon"], d["lat"], srid=4326),
        expected_version=d["version"])),
    "assign": (forms.AssignForm, lambda user, r, d: triage.report_assign(
        actor=user, report_id=r, assignee_id=d["assignee"], expected_version=d["version"])),
    "priority": (forms.PriorityForm, lambda user, r, d: triage.report_set_priority(
        actor=user, report_id=r, priority=d["priority"], due=d["due"],
        expected_version=d["version"])),
    "reply": (forms.ReplyForm, lambda user, r, d: triage.report_reply(
        actor=user, report_id=r, text=d["text"], expected_version=d["version"])),
    "note": (forms.NoteForm, lambda user, r, d: triage.report_note(
        actor=user, report_id=r, text=d["text"])),
    "hide": (forms.HideForm, lambda user, r, d: triage.report_hide(
        actor=user, report_id=r, reason=d["reason"], expected_version=d["version"])),
    "unhide": (forms.VersionedForm, lambda user, r, d: triage.report_unhide(
        actor=user, report_id=r, expected_version=d["version"])),
    "retry-send": (forms.VersionedForm, lambda user, r, d: sending.cases_retry(
        actor=user, report_id=r)),
    "private": (forms.PrivateForm, lambda user, r, d: privacy.report_make_private(
        actor=user, report_id=r, reason=d["reason"], expected_version=d["version"])),
    "unprivate": (forms.VersionedForm, lambda user, r, d: privacy.report_make_public(
        actor=user, report_id=r, expected_version=d["version"])),
    "redact": (forms.RedactForm, lambda user, r, d: moderation.report_redact_text(
        actor=user, report_id=r, target=d["target"], event_id=d["event"],
        passage=d["passage"], reason=d["reason"], expected_version=d["version"])),
    "redact-photo": (forms.RedactPhotoForm, lambda user, r, d: moderation.report_redact_photo(
        actor=user, report_id=r, photo_id=d["photo"], reason=d["reason"],
        expected_version=d["version"])),
    "reopen-accept": (forms.ReopenForm, lambda user, r, d: followup.reopen_accept(
        actor=user, report_id=r, request_id=d["request"], expected_version=d["version"])),
    "reopen-decline": (forms.ReopenDeclineForm, lambda user, r, d: followup.reopen_decline(
        actor=user, report_id=r, request_id=d["request"], reason=d["reason"],
        expected_version=d["version"])),
    "ask": (forms.AskForm, lambda user, r, d: casework.question_ask(
        actor=user, report_id=r, question=d["question"], expected_version=d["version"])),
    "handover": (forms.HandoverForm, lambda user, r, d: casework.handover_send(
        actor=user, report_id=r, party=d["party"], email=d["email"],
        instructions=d["instructions"], share_contact=d["share_contact"],
        expected_version=d["version"])),
    "withdraw": (forms.WithdrawForm, lambda user, r, d: casework.handover_withdraw(
        actor=user, report_id=r, handover_id=d["handover"])),
}


def _choices_for(form, report) -> None:
    if "department" in form.fields:
        form.fields["department"].choices = [
            (d.pk, d.name) for d in report.municipality.departments.all()]
    if "category" in form.fields:
        form.fields["category"].choices = [
            (c.code, c.name) for c in staff.active_categories(report.municipality)]
    if "where" in form.fields:
        form.fields["where"].choices = forms.redact_choices(report)
    if "photo" in form.fields and isinstance(form, forms.RedactPhotoForm):
        form.fields["photo"].choices = forms.redact_photo_choices(report)
    if "assignee" in form.fields:
        form.fields["assignee"].choices = [("", "—")] + [
            (u.pk, u.get_username()) for u in staff.colleagues_for(report)]


@staff_required
@require_POST
def action(request, report_id: int, name: str):
    """Run one triage action. A refusal is shown on the fresh report with the error's own
    status (409 for a stale version, with a warning to reload, or a refused transition; 400
    for bad input, with the fields named); out of scope 404."""
    if name not in ACTIONS:
        raise Http404("No such action")
    report = _report_or_404(request, report_id)
    form_class, run = ACTIONS[name]
    form = form_class(request.POST)
    _choices_for(form, report)
    if not form.is_valid():
        return _detail_with_error(request, report, name, form.errors.get_json_data(), 400)
    try:
        run(request.user, report.pk, form.cleaned_data)
    except PermissionDenied:
        raise Http404("No such report") from None
    except ApplicationError as exc:
        return _detail_with_error(request, report, name, {
            field: [{"message": m} for m in msgs] for field, msgs in exc.errors.items()},
            exc.status_code, message=exc.message, stale=isinstance(exc, StaleVersion))
    messages.success(request, _("Saved."))
    return redirect("staff-report", report_id=report.pk)


def _detail_with_error(request, report, action_name, errors, status, message="",
                       stale=False):
    fresh = _report_or_404(request, report.pk)
    context = _detail_context(request, fresh, action_errors={
        "action": action_name, "message": message or _("Some fields are invalid."),
        "fields": {field: " ".join(e["message"] for e in errs) for field, errs in errors.items()},
        "conflict": stale})
    return render(request, "frontend/staff/detail.html", context, status=status)


@staff_required
@require_POST
def bulk(request):
    form = forms.BulkForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(
            m for errs in form.errors.values() for m in errs))
        return _back(request)
    data = form.cleaned_data
    arguments = {
        "status": {"to_status": data["status"], "public_text": data["public_text"]},
        "reroute": {"department_id": data["department"]},
        "assign": {"assignee_id": data["assignee"]},
    }[data["action"]]
    result = triage.reports_bulk(actor=request.user, report_ids=data["reports"],
                                 action=data["action"], **arguments)
    if result.done:
        messages.success(request, _("Done for %(n)s report(s): %(ids)s") % {
            "n": len(result.done), "ids": ", ".join(f"#{i}" for i in result.done)})
    for report_id, why in result.failed.items():
        messages.error(request, f"#{report_id}: {why}")
    return _back(request)


def _back(request):
    """Back to the page the form came from (`next`), if that is a page of this site; the
    queue otherwise (an open redirect would let a crafted form send staff anywhere)."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
            target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return redirect("staff-queue")


def _period(request) -> tuple[dt.date, dt.date]:
    today = timezone.localdate()
    since = parse_date(request.GET.get("since") or "") or today - dt.timedelta(days=30)
    until = parse_date(request.GET.get("until") or "") or today
    return min(since, until), max(since, until)


def _new_report_page(request, form, status=200, message=""):
    return render(request, "frontend/staff/new.html", {"form": form, "message": message},
                  status=status)


@staff_required
def new_report(request):
    """File a report for a caller (phone, counter, mail), named or anonymous, through the
    same service as every other channel; the form's token makes a second submit of the
    same form replay the first answer instead of filing twice."""
    categories = staff.categories_for(request.user).filter(active=True).select_related(
        "municipality")
    if request.method != "POST":
        form = forms.StaffReportForm(categories=categories,
                                     initial={"form_token": uuid.uuid4().hex,
                                              "channel": "phone"})
        return _new_report_page(request, form)
    form = forms.StaffReportForm(request.POST, categories=categories)
    if not form.is_valid():
        return _new_report_page(request, form, 400)
    data = form.cleaned_data

    def file():
        municipality_code, _sep, code = data["category"].partition(":")
        if data.get("lat") is not None and data.get("lon") is not None:
            point = Point(data["lon"], data["lat"], srid=4326)
        else:
            point = address_named(data["address"]).location
        report = services.report_create(
            location=point, category_code=code, description=data["description"],
            address=data.get("address") or "", source=data["channel"],
            reporter=services.Reporter(name=data["name"], email=data["email"],
                                       phone=data["phone"]),
            filed_by=request.user, municipality_code=municipality_code)
        messages.success(request, _("Report #%(id)s is filed and sent to %(department)s.") % {
            "id": report.pk, "department": report.department.name})
        if staff.staff_report(request.user, report.pk) is not None:
            return redirect("staff-report", report_id=report.pk)
        return redirect("staff-queue")

    try:
        return run_idempotent(request, f"staff:{request.user.pk}", file,
                              key=data["form_token"])
    except AddressNotFound as exc:
        form.add_error("address", str(exc))
        return _new_report_page(request, form, 400)
    except ApplicationError as exc:
        for field, errors in exc.errors.items():
            if field in form.fields:
                form.add_error(field, errors)
        if not form.errors:
            form.add_error(None, exc.message)
        return _new_report_page(request, form, exc.status_code, message=exc.message)


@staff_required
def stats(request):
    since, until = _period(request)
    tz = timezone.get_current_timezone()
    result = staff.staff_statistics(
        request.user, dt.datetime.combine(since, dt.time.min, tz),
        dt.datetime.combine(until + dt.timedelta(days=1), dt.time.min, tz))

    def bars(rows):
        top = max([n for _label, n in rows] or [1]) or 1
        return [{"label": label, "n": n, "pct": round(100 * n / top)} for label, n in rows]

    return render(request, "frontend/staff/stats.html", {
        "since": since, "until": until, "stats": result,
        "status_bars": bars(result.by_status), "category_bars": bars(result.by_category),
        "department_bars": bars(result.by_department),
        "channel_bars": bars(result.by_channel)})


# A cell a spreadsheet would read as a formula (=HYPERLINK(…), +, -, @, or after a tab or
# carriage return): citizen text must stay text (OWASP's CSV injection advice).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value) -> object:
    if value is None:
        return ""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


class _Echo:
    def write(self, value: str) -> str:
        return value


@staff_required
def export(request):
    """The filtered queue as CSV, streamed row by row (never the whole queue in memory)."""
    form = _queue_form(request, list(staff.departments_for(request.user)))
    filters = form.filters() if request.GET else staff.QueueFilters()
    queue_qs = staff.staff_queue(request.user, filters)
    writer = csv.writer(_Echo())

    def lines():
        # "\ufeff": so that spreadsheet programs read UTF-8. Rows go out in batches of 500:
        # one send per row would cost more than writing it.
        batch = ["\ufeff", writer.writerow(staff.EXPORT_FIELDS)]
        for row in staff.export_rows(queue_qs):
            batch.append(writer.writerow([_cell(v) for v in row]))
            if len(batch) >= 500:
                yield "".join(batch)
                batch = []
        yield "".join(batch)

    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="os2geo-queue-{stamp}.csv"'
    return response

