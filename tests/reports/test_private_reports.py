"""Private categories and private reports: never in a public output (REST, Open311, tiles,
Atom, sockets), while staff, back offices and the reporter (by a private link) still see
them; staff-only categories are staff's to file; staff make one report private with a
reason, and the maps drop it live."""

from __future__ import annotations

import re

import mapbox_vector_tile
import pytest
from django.core import mail

from maps.tiles import lonlat_to_tile
from reports import services
from reports.live import events
from reports.models import Category, Report
from reports.notifications.worker import run_once
from reports.services import privacy
from tests.reports.factories import BALLERUP_TOWN, CategoryFactory, file_report
from tests.reports.live.helpers import listen, pending
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = staff_world()
    roads_kle = world["ballerup"].categories.get(code="pothole").kle
    world["rats"] = CategoryFactory(municipality=world["ballerup"], code="rats",
                                    name="Rotter", kle=roads_kle,
                                    visibility=Category.Visibility.PRIVATE)
    world["internal"] = CategoryFactory(municipality=world["ballerup"], code="inspection",
                                        name="Vejsyn", kle=roads_kle,
                                        visibility=Category.Visibility.STAFF_ONLY)
    return world


def reporter():
    return services.Reporter(name="Mette", email="mette@example.dk")




def public_everywhere(client, report_id: int) -> dict[str, bool]:
    """Where a report shows up publicly, place by place."""
    lon, lat = BALLERUP_TOWN
    x, y = lonlat_to_tile(lon, lat, 16)
    tile = client.get(f"/api/v1/tiles/reports/16/{x}/{y}.mvt")
    ids = {f["id"] for layer in (mapbox_vector_tile.decode(tile.content).values()
                                 if tile.content else []) for f in layer["features"]}
    listing = client.get(f"/api/v1/reports/?bbox={lon - .01},{lat - .01},{lon + .01},"
                         f"{lat + .01}").json()
    updates = client.get("/open311/v2/servicerequestupdates.json").json()
    requests = client.get("/open311/v2/requests.json?jurisdiction_id=0151").json()
    feed = client.get(f"/feeds/near/?lon={lon}&lat={lat}&radius=500").content.decode()
    return {
        "tile": report_id in ids,
        "rest list": any(f["id"] == report_id for f in listing["features"]),
        "rest detail": client.get(f"/api/v1/reports/{report_id}/").status_code == 200,
        "open311 list": any(r["service_request_id"] == str(report_id) for r in requests),
        "open311 detail": client.get(f"/open311/v2/requests/{report_id}.json"
                                     ).status_code == 200,
        "open311 updates": any(u["service_request_id"] == str(report_id) for u in updates),
        "atom": f"/reports/{report_id}" in feed,
        "page": client.get(f"/reports/{report_id}").status_code == 200,
    }


def test_a_private_categorys_report_is_in_no_public_output_but_reaches_staff(
        client, world, django_capture_on_commit_callbacks):
    tile_group = events.tile_group(12, *lonlat_to_tile(*BALLERUP_TOWN, 12))
    layer, channel = listen(tile_group, events.municipality_group("0151"))
    staff_layer, staff_channel = listen(events.department_group(world["roads"].pk))
    with django_capture_on_commit_callbacks(execute=True):
        report = file_report(category="rats", reporter=reporter(),
                             description="Rotter i gården")
        services.report_transition(report_id=report.pk, to_status="acknowledged",
                                   public_text="Skadedyrsbekæmperen kommer.")
    assert report.private and not report.public
    assert public_everywhere(client, report.pk) == dict.fromkeys(
        public_everywhere(client, report.pk), False)
    assert pending(layer, channel) == []                       # no map socket heard of it
    assert [m["event"]["type"] for m in pending(staff_layer, staff_channel)] == [
        "report.created", "report.updated"]                   # staff did
    run_once()
    to_reporter = [m for m in mail.outbox if m.to == ["mette@example.dk"]]
    assert len(to_reporter) == 2                               # receipt and the update
    link = re.search(r"http://\S+/reports/view/\S+", to_reporter[0].body).group(0)
    assert f"/reports/{report.pk}" not in to_reporter[0].body.replace(link, "")
    page = client.get(link.split("8000", 1)[-1] if "8000" in link else link)
    assert page.status_code == 200 and "Rotter i gården" in page.content.decode()
    assert page["Cache-Control"] == "private, no-store"
    department = [m for m in mail.outbox if m.to == [world["roads"].email]]
    assert department                                          # the department was told


def test_the_private_page_needs_the_reporters_link(client, world):
    report = file_report(category="rats", reporter=reporter())
    assert client.get(f"/reports/view/{report.pk}").status_code == 400
    public = file_report(reporter=reporter())
    from reports.notifications import links

    assert client.get(f"/reports/view/{links.token('report-view', public.pk)}"
                      ).status_code == 404                     # a public one has its page


def test_staff_only_categories_are_offered_to_nobody_else(client, world):
    lon, lat = BALLERUP_TOWN
    codes = [c["code"] for c in client.get(f"/api/v1/categories/?lon={lon}&lat={lat}"
                                           ).json()["categories"]]
    assert "inspection" not in codes and "rats" in codes
    flags = {c["code"]: c["private"] for c in client.get(
        f"/api/v1/categories/?lon={lon}&lat={lat}").json()["categories"]}
    assert flags["rats"] is True and flags["pothole"] is False  # apps can say so first
    services_codes = [s["service_code"] for s in
                      client.get("/open311/v2/services.json?jurisdiction_id=0151").json()]
    assert "inspection" not in services_codes
    body = {"location": {"type": "Point", "coordinates": [lon, lat]},
            "description": "Vejsyn"}
    response = client.post("/api/v1/reports/", {**body, "category": "inspection"},
                           content_type="application/json")
    assert response.status_code == 400 and list(response.json()["errors"]) == ["category"]
    private = client.post("/api/v1/reports/", {**body, "category": "rats"},
                          content_type="application/json")
    assert private.status_code == 201, private.content
    assert private.json()["private"] is True and "feature" not in private.json()
    assert Report.objects.get(pk=private.json()["id"]).private
    report = file_report(category="inspection", filed_by=world["caseworker"],
                         source=Report.Source.STAFF)
    assert report.private and "staff only" in report.private_reason


def test_staff_make_a_report_private_and_the_maps_drop_it_live(
        client, world, django_capture_on_commit_callbacks):
    report = file_report(reporter=reporter())
    assert public_everywhere(client, report.pk)["rest detail"]
    layer, channel = listen(events.municipality_group("0151"))
    with django_capture_on_commit_callbacks(execute=True):
        privacy.report_make_private(actor=world["caseworker"], report_id=report.pk,
                                    reason="Nabostrid med navne")
    (message,) = pending(layer, channel)
    assert message["event"]["type"] == "report.removed"
    assert message["event"]["reason"] == "private"
    report.refresh_from_db()
    assert (report.private_by, report.private_reason) == (world["caseworker"],
                                                         "Nabostrid med navne")
    assert not any(public_everywhere(client, report.pk).values())
    with pytest.raises(Exception, match="private already"):
        privacy.report_make_private(actor=world["caseworker"], report_id=report.pk,
                                    reason="igen")
    privacy.report_make_public(actor=world["caseworker"], report_id=report.pk)
    assert public_everywhere(client, report.pk)["rest detail"]


def test_a_private_categorys_reports_stay_private_and_follow_its_visibility(world):
    report = file_report(category="rats")
    with pytest.raises(Exception, match="stay private"):
        privacy.report_make_public(actor=world["caseworker"], report_id=report.pk)
    world["rats"].visibility = Category.Visibility.PUBLIC
    world["rats"].save()
    assert privacy.category_visibility_apply(world["rats"]) == 1
    report.refresh_from_db()
    assert report.public
    world["rats"].visibility = Category.Visibility.PRIVATE
    world["rats"].save()
    staff_private = file_report()
    triage_reason = "Personlige oplysninger"
    privacy.report_make_private(actor=world["caseworker"], report_id=staff_private.pk,
                                reason=triage_reason)
    privacy.category_visibility_apply(world["rats"])
    report.refresh_from_db()
    assert report.private and not report.public
    staff_private.refresh_from_db()
    assert staff_private.private_reason == triage_reason       # untouched by the category


def test_staff_page_offers_private_and_back(client, world):
    report = file_report()
    client.force_login(world["caseworker"])
    response = client.post(f"/staff/reports/{report.pk}/private/",
                           {"version": report.version, "reason": "Nummerplade i teksten"})
    assert response.status_code == 302
    page = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert 'id="private-state"' in page and 'id="form-unprivate"' in page
    report.refresh_from_db()
    assert client.post(f"/staff/reports/{report.pk}/unprivate/",
                       {"version": report.version}).status_code == 302
    report.refresh_from_db()
    assert report.public

