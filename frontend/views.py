from django.conf import settings
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from frontend.basemap import basemap_style
from reports import services
from reports.lifecycle import OPEN_STATUSES, Status
from reports.models import DESCRIPTION_MAX_LENGTH
from reports.notifications.links import BadToken, read
from reports.selectors import (
    public_report,
    public_timeline,
    report_for_its_reporter,
    served_municipality_codes,
)
from reports.tiles import ASSET_MIN_ZOOM


def map_config() -> dict:
    """What the browser needs to draw the map (passed with json_script)."""
    lon, lat, zoom = (float(v) for v in settings.MAP_START.split(","))
    return {
        "basemap": basemap_style(settings.BASEMAP_STYLE),
        "start": {"lon": lon, "lat": lat, "zoom": zoom},
        "clusterMaxZoom": settings.TILE_CLUSTER_MAX_ZOOM,
        "tileMaxZoom": settings.TILE_MAX_ZOOM,
        "assetMinZoom": ASSET_MIN_ZOOM,  # asset tiles below it are empty
        "statuses": [{"code": code, "label": str(label),
                      "open": code in OPEN_STATUSES}
                     for code, label in Status.choices],
        # The rules the browser applies too, from the one place each is set.
        "limits": {
            "photosPerReport": settings.PHOTO_MAX_PER_REPORT,
            "photoResizeSide": settings.PHOTO_BROWSER_RESIZE_SIDE,
            "addressMaxDistanceM": settings.REPORT_ADDRESS_MAX_DISTANCE_M,
            "duplicateRadiusM": settings.DUPLICATE_RADIUS_M,
            "descriptionMaxLength": DESCRIPTION_MAX_LENGTH,
        },
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


def private_report_page(request, token: str):
    """A private report's page for its reporter (the link in their mails): what a public
    page shows, without the live map, for nobody but the holder of the link."""
    try:
        report_id = read("report-view", token)
    except BadToken as exc:
        return render(request, "frontend/message.html",
                      {"title": _("Link not valid"), "message": str(exc)}, status=400)
    report = report_for_its_reporter(report_id)
    if report is None:
        raise Http404("No such report")
    timeline = [{**event, "when": parse_datetime(event["at"]),
                 "status_label": Status(event["to_status"]).label if event["to_status"] else ""}
                for event in public_timeline(report_id)]
    response = render(request, "frontend/private_report.html", {
        "report": report, "photos": list(report.photos.all()), "timeline": timeline})
    response["Cache-Control"] = "private, no-store"
    response["X-Robots-Tag"] = "noindex"
    return response


def _signed_link_page(request, token: str, kind: str, action, page, ask: dict
                      ) -> HttpResponse:
    """A signed link from a mail. GET only shows what the link will do, with a button:
    mail scanners and link previews fetch links, and must not confirm or unsubscribe
    anything on the person's behalf. POST (the button, or a mail client's RFC 8058 one-click
    unsubscribe) runs the service and shows the outcome. A link that does not work is 400.
    No CSRF token: the signed link itself is the credential, and it is all a POST can do."""
    try:
        if request.method != "POST":
            read(kind, token)
            return render(request, "frontend/signed_link.html", ask)
        result = action(token=token)
    except BadToken as exc:
        return render(request, "frontend/message.html",
                      {"title": _("Link not valid"), "message": str(exc)}, status=400)
    return render(request, "frontend/message.html", page(result))


@csrf_exempt
@require_http_methods(["GET", "POST"])
def subscription_confirm(request, token: str):
    return _signed_link_page(
        request, token, "follow-confirm", services.subscription_confirm, lambda sub: {
            "title": _("You now follow this report"),
            "message": _("We will mail you when report #%(id)s changes.") % {
                "id": sub.report_id},
            "report_id": sub.report_id},
        {"title": _("Follow this report?"), "button": _("Yes, mail me when it changes"),
         "message": _("Press the button to confirm that you want mails about the report.")})


@csrf_exempt  # RFC 8058 one-click unsubscribe: mail clients POST without a CSRF token
@require_http_methods(["GET", "POST"])
def subscription_unsubscribe(request, token: str):
    return _signed_link_page(
        request, token, "follow-unsubscribe", services.subscription_unsubscribe,
        lambda report: {"title": _("You will get no more mails about this report"),
                        "message": _("You can follow it again from its page."),
                        "report_id": report.pk if report else None},
        {"title": _("Stop mails about this report?"), "button": _("Stop the mails"),
         "message": _("Press the button and you will get no more mails about it.")})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def report_confirm(request, token: str):
    return _signed_link_page(
        request, token, "report-confirm", services.report_confirm, lambda done: {
            "title": _("Thank you, your report is sent") if done.first
            else _("This report was confirmed already"),
            "message": _("Report #%(id)s is now with %(department)s.") % {
                "id": done.report.pk,
                "department": (done.report.responsible_body or done.report.department).name},
            "report_id": done.report.pk if done.report.public else None},
        {"title": _("Send your report?"), "button": _("Yes, send my report"),
         "message": _("Press the button to confirm your report; then it is sent to the "
                      "municipality and shown on the map.")})


@csrf_exempt
@require_http_methods(["GET", "POST"])
def alert_confirm(request, token: str):
    return _signed_link_page(
        request, token, "alert-confirm", services.alert_confirm, lambda alert: {
            "title": _("Your alert is on"),
            "message": _("We will mail you about new reports in the area.")},
        {"title": _("Turn the alert on?"), "button": _("Yes, mail me about new reports"),
         "message": _("Press the button to confirm the alert for the area.")})


@csrf_exempt  # RFC 8058 one-click unsubscribe
@require_http_methods(["GET", "POST"])
def alert_unsubscribe(request, token: str):
    return _signed_link_page(
        request, token, "alert-unsubscribe", services.alert_unsubscribe, lambda _result: {
            "title": _("Your alert is off"), "message": _("You will get no more alert mails.")},
        {"title": _("Turn the alert off?"), "button": _("Stop the alert mails"),
         "message": _("Press the button and you will get no more alert mails.")})
