from django.http import Http404
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from reports import services
from reports.selectors import public_report, public_timeline, served_municipalities_overview
from reports.subscriptions import BadToken


def landing(request):
    return render(request, "frontend/landing.html",
                  {"municipalities": served_municipalities_overview()})


def report_page(request, report_id: int):
    """A report's public page (the link in receipts and status mails)."""
    report = public_report(report_id)
    if report is None:
        raise Http404("No such report")
    timeline = [{**event, "when": parse_datetime(event["at"])}
                for event in public_timeline(report_id)]
    return render(request, "frontend/report.html", {
        "report": report, "photos": list(report.photos.all()), "timeline": timeline,
    })


def subscription_confirm(request, token: str):
    try:
        subscription = services.subscription_confirm(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html", {"title": _("Link not valid"),
                                                           "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", {
        "title": _("You now follow this report"),
        "message": _("We will mail you when report #%(id)s changes.") % {
            "id": subscription.report_id},
        "report_id": subscription.report_id})


@csrf_exempt  # RFC 8058 one-click unsubscribe: mail clients POST without a CSRF token
def subscription_unsubscribe(request, token: str):
    try:
        report = services.subscription_unsubscribe(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html", {"title": _("Link not valid"),
                                                           "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", {
        "title": _("You will get no more mails about this report"),
        "message": _("You can follow it again from its page."),
        "report_id": report.pk if report else None})


def report_confirm(request, token: str):
    try:
        report = services.report_confirm(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html", {"title": _("Link not valid"),
                                                           "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", {
        "title": _("Thank you, your report is sent"),
        "message": _("Report #%(id)s is now with %(department)s.") % {
            "id": report.pk, "department": report.department.name},
        "report_id": report.pk})


def alert_confirm(request, token: str):
    try:
        services.alert_confirm(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html", {"title": _("Link not valid"),
                                                           "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", {
        "title": _("Your alert is on"),
        "message": _("We will mail you about new reports in the area.")})


@csrf_exempt  # RFC 8058 one-click unsubscribe
def alert_unsubscribe(request, token: str):
    try:
        services.alert_unsubscribe(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html", {"title": _("Link not valid"),
                                                           "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", {
        "title": _("Your alert is off"), "message": _("You will get no more alert mails.")})
