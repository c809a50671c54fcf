from django.http import Http404
from django.shortcuts import render
from django.utils.dateparse import parse_datetime

from reports.selectors import public_report, public_timeline, served_municipalities_overview


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
