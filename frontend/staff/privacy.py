"""The data-protection page for municipality admins: what OS2geo holds about one e-mail
address or phone number (shown, downloaded as JSON), its erasure on request, the
retention rules in force and the deletion log. The services are
reports.services.data_subjects and reports.services.retention."""

from __future__ import annotations

import json
from functools import wraps

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from geoservice.errors import ApplicationError
from reports.models import DeletionLog, RetentionRule
from reports.services import data_subjects

LOG_ROWS = 50


def admin_required(view):
    """Logged in as a municipality admin or a superuser; otherwise the login page or 403."""

    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), "/staff/login/")
        if data_subjects.admin_municipalities(request.user) == []:
            raise PermissionDenied("Only a municipality admin can do this.")
        return view(request, *args, **kwargs)

    return wrapped


def _context(request, scope, **extra) -> dict:
    rules = RetentionRule.objects.select_related("municipality")
    log = DeletionLog.objects.all()
    if scope is not None:
        rules = rules.filter(municipality_id__in=scope)
        log = log.filter(municipality_id__in=scope) | log.filter(
            municipality__isnull=True, actor=request.user)
    return {"rules": rules, "log": log[:LOG_ROWS], "subject": "", **extra}


@admin_required
@require_http_methods(["GET", "POST"])
def page(request):
    scope = data_subjects.admin_municipalities(request.user)
    if request.method == "GET":
        return render(request, "frontend/staff/privacy.html", _context(request, scope))
    value, action = request.POST.get("subject", ""), request.POST.get("do", "show")
    try:
        if action == "export":
            exported = data_subjects.subject_export(actor=request.user, value=value)
            response = HttpResponse(json.dumps(exported, ensure_ascii=False, indent=2),
                                    content_type="application/json; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="os2geo-data-{timezone.now():%Y%m%d-%H%M%S}.json"')
            return response
        if action == "erase":
            if request.POST.get("confirm") != "on":
                return render(request, "frontend/staff/privacy.html", _context(
                    request, scope, subject=value, error=_(
                        "Tick the box to confirm the erasure: it cannot be undone.")),
                    status=400)
            done = data_subjects.subject_erase(actor=request.user, value=value)
            messages.success(request, _(
                "Erased: contact data on %(reports)s reports, %(follows)s follows, "
                "%(alerts)s alerts, %(updates)s updates, %(mails)s mails. The deletion log "
                "says so.") % done.__dict__)
            return redirect("staff-privacy")
        subject = data_subjects.subject_parse(value)
        held = data_subjects.holdings(subject, scope).counts()
        return render(request, "frontend/staff/privacy.html",
                      _context(request, scope, subject=value, held=held))
    except ApplicationError as exc:
        return render(request, "frontend/staff/privacy.html", _context(
            request, scope, subject=value,
            error=" ".join(m for msgs in exc.errors.values() for m in msgs) or exc.message),
            status=exc.status_code)
