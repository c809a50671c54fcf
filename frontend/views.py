from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from frontend.basemap import basemap_style
from reports import services
from reports.lifecycle import OPEN_STATUSES, Status
from reports.selectors import public_report, public_timeline, served_municipality_codes
from reports.subscriptions import BadToken


def map_config() -> dict:
    """What the browser needs to draw the map (passed with json_script)."""
    lon, lat, zoom = (float(v) for v in settings.MAP_START.split(","))
    return {
        "basemap": basemap_style(settings.BASEMAP_STYLE),
        "start": {"lon": lon, "lat": lat, "zoom": zoom},
        "clusterMaxZoom": settings.TILE_CLUSTER_MAX_ZOOM,
        "statuses": [{"code": code, "label": str(label),
                      "open": code in OPEN_STATUSES}
                     for code, label in Status.choices],
    }


def map_page(request):
    """The citizen map: reports on a map, filters and a list, and the report flow."""
    return render(request, "frontend/map.html", {
        "config": {**map_config(), "municipalities": served_municipality_codes()}})


def report_page(request, report_id: int):
    """A report's public page (the link in receipts and status mails), live."""
    report = public_report(report_id)
    if report is None:
        raise Http404("No such report")
    timeline = [{**event, "when": parse_datetime(event["at"])}
                for event in public_timeline(report_id)]
    return render(request, "frontend/report.html", {
        "report": report, "photos": list(report.photos.all()), "timeline": timeline,
        "config": {**map_config(), "report": {"id": report.id, "version": report.version,
                                               "lon": report.location.x,
                                               "lat": report.location.y}},
    })


def _signed_link_page(request, token: str, action, page) -> HttpResponse:
    """Run the service behind a signed mail link and show the outcome, or why the link
    does not work (400)."""
    try:
        result = action(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html",
                      {"title": _("Link not valid"), "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", page(result))


def subscription_confirm(request, token: str):
    return _signed_link_page(request, token, services.subscription_confirm, lambda sub: {
        "title": _("You now follow this report"),
        "message": _("We will mail you when report #%(id)s changes.") % {"id": sub.report_id},
        "report_id": sub.report_id})


@csrf_exempt  # RFC 8058 one-click unsubscribe: mail clients POST without a CSRF token
def subscription_unsubscribe(request, token: str):
    return _signed_link_page(request, token, services.subscription_unsubscribe,
                             lambda report: {
                                 "title": _("You will get no more mails about this report"),
                                 "message": _("You can follow it again from its page."),
                                 "report_id": report.pk if report else None})


def report_confirm(request, token: str):
    return _signed_link_page(request, token, services.report_confirm, lambda report: {
        "title": _("Thank you, your report is sent"),
        "message": _("Report #%(id)s is now with %(department)s.") % {
            "id": report.pk, "department": report.department.name},
        "report_id": report.pk})


def alert_confirm(request, token: str):
    return _signed_link_page(request, token, services.alert_confirm, lambda alert: {
        "title": _("Your alert is on"),
        "message": _("We will mail you about new reports in the area.")})


@csrf_exempt  # RFC 8058 one-click unsubscribe
def alert_unsubscribe(request, token: str):
    return _signed_link_page(request, token, services.alert_unsubscribe, lambda _result: {
        "title": _("Your alert is off"), "message": _("You will get no more alert mails.")})
