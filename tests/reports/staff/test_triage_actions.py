"""The dashboard's triage services beyond reply/note/re-route/assign: status by staff,
priority and due time, hiding, category change, moving the pin, duplicate merging and bulk
actions. Each writes one timeline row, sends a live event, and respects the scope."""

from __future__ import annotations

import datetime as dt

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.contrib.gis.geos import Point
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from geoservice.errors import InvalidInput, StaleVersion
from reports import services
from reports.live import events
from reports.models import Report, ReportEvent, Subscription
from reports.staff import triage
from tests.reports.factories import BALLERUP_TOWN, MAALOEV, file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


def last_event(report_id: int) -> ReportEvent:
    return ReportEvent.objects.filter(report_id=report_id).order_by("-id").first()


def staff_socket_events(department_id: int, callbacks_run) -> list[dict]:
    """Run on_commit callbacks with a channel joined to a department group; return what
    arrived there."""
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.department_group(department_id), channel)
    callbacks_run()
    received = []
    while True:
        try:
            message = async_to_sync(_receive_now)(layer, channel)
        except TimeoutError:
            return received
        received.append(message["event"])


async def _receive_now(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), 0.2)


def test_due_time_follows_from_the_category_and_shows_in_both_apis(world, client):
    report = file_report(reporter=services.Reporter(email="a@example.dk"))
    assert report.expected_at == report.created_at + dt.timedelta(hours=48)
    feature = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert dt.datetime.fromisoformat(feature["properties"]["expected_datetime"]) == \
        report.expected_at
    open311 = client.get(f"/open311/v2/requests/{report.pk}.json").json()[0]
    assert dt.datetime.fromisoformat(open311["expected_datetime"]) == report.expected_at.replace(
        microsecond=0)


def test_staff_status_change_is_scoped_and_versioned(world):
    report = file_report()
    with pytest.raises(PermissionDenied):
        triage.report_set_status(actor=world["outsider"], report_id=report.pk,
                                 to_status="acknowledged")
    with pytest.raises(StaleVersion):
        triage.report_set_status(actor=world["caseworker"], report_id=report.pk,
                                 to_status="acknowledged", expected_version=7)
    triage.report_set_status(actor=world["caseworker"], report_id=report.pk,
                             to_status="acknowledged", expected_version=1)
    event = last_event(report.pk)
    assert (event.kind, event.to_status, event.actor) == ("status", "acknowledged",
                                                          world["caseworker"])


def test_priority_and_due_time(world, django_capture_on_commit_callbacks):
    report = file_report()
    due = timezone.now() + dt.timedelta(days=2)
    with django_capture_on_commit_callbacks() as callbacks:
        triage.report_set_priority(actor=world["caseworker"], report_id=report.pk,
                                   priority="urgent", due=due, expected_version=1)
    got = staff_socket_events(world["roads"].pk, lambda: [c() for c in callbacks])
    report.refresh_from_db()
    assert (report.priority, report.expected_at, report.version) == ("urgent", due, 2)
    assert "priority normal → urgent" in last_event(report.pk).internal_text
    assert [(e["type"], e["version"]) for e in got] == [("report.updated", 2)]
    with pytest.raises(InvalidInput):
        triage.report_set_priority(actor=world["caseworker"], report_id=report.pk,
                                   priority="whenever")


def test_hidden_report_leaves_every_public_place_but_stays_for_staff(
        world, client, django_capture_on_commit_callbacks):
    report = file_report()
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.report_group(report.pk), channel)
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_hide(actor=world["caseworker"], report_id=report.pk,
                           reason="Personlige oplysninger i teksten")
    message = async_to_sync(_receive_now)(layer, channel)["event"]
    assert message == {"type": "report.removed", "report_id": report.pk, "version": 2,
                       "reason": "hidden"}
    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 404
    assert client.get(f"/open311/v2/requests/{report.pk}.json").status_code == 404
    assert report.pk not in [f["id"] for f in client.get("/api/v1/reports/").json()["features"]]
    assert client.get(f"/reports/{report.pk}").status_code == 404
    report.refresh_from_db()
    assert report.hidden and not report.public and report.confirmed_at is not None
    # Hidden is not "unconfirmed": the clean-up of unconfirmed web reports leaves it alone.
    Report.objects.filter(pk=report.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    services.reports_expire_unconfirmed()
    assert Report.objects.filter(pk=report.pk).exists()
    with pytest.raises(InvalidInput):
        triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="igen")
    triage.report_unhide(actor=world["caseworker"], report_id=report.pk, expected_version=2)
    assert client.get(f"/api/v1/reports/{report.pk}/").status_code == 200
    assert last_event(report.pk).kind == "shown"
    with pytest.raises(InvalidInput):
        triage.report_unhide(actor=world["caseworker"], report_id=report.pk)


def test_category_change_routes_again_and_tells_both_departments(
        world, django_capture_on_commit_callbacks):
    report = file_report()
    assert report.department == world["roads"]
    with django_capture_on_commit_callbacks() as callbacks:
        triage.report_change_category(actor=world["caseworker"], report_id=report.pk,
                                      category_code="playground", expected_version=1)
    got_roads = staff_socket_events(world["roads"].pk, lambda: [c() for c in callbacks])
    report.refresh_from_db()
    assert (report.category.code, report.department) == ("playground", world["nature"])
    event = last_event(report.pk)
    assert event.kind == "category"
    assert "Routed again" in event.internal_text and event.public_text.startswith("Sendt til")
    assert [e["type"] for e in got_roads] == ["report.updated"]
    with pytest.raises(InvalidInput):
        triage.report_change_category(actor=world["outsider"], report_id=report.pk,
                                      category_code="nonsense")


def test_moving_the_pin_routes_again_and_stays_inside_the_municipality(world):
    report = file_report()
    triage.report_move(actor=world["caseworker"], report_id=report.pk,
                       location=Point(*MAALOEV, srid=4326))
    report.refresh_from_db()
    assert report.department == world["maaloev"]  # Måløv's district rule
    assert last_event(report.pk).kind == "moved"
    with pytest.raises(InvalidInput) as refused:
        triage.report_move(actor=world["admin"], report_id=report.pk,
                           location=Point(12.57, 55.68, srid=4326))  # København
    assert "location" in refused.value.errors


def test_merge_closes_the_duplicate_and_carries_followers_over(world):
    original = file_report(reporter=services.Reporter(email="first@example.dk"))
    duplicate = file_report(lon_lat=(BALLERUP_TOWN[0] + 0.0005, BALLERUP_TOWN[1]),
                            reporter=services.Reporter(email="second@example.dk"))
    Subscription.objects.create(report=duplicate, email="nabo@example.dk",
                                confirmed_at=timezone.now())
    Subscription.objects.create(report=original, email="nabo@example.dk",
                                confirmed_at=timezone.now())
    merged = triage.report_merge(actor=world["caseworker"], report_id=duplicate.pk,
                                 into_id=original.pk, expected_version=1)
    assert (merged.status, merged.duplicate_of_id) == ("duplicate", original.pk)
    assert set(Subscription.objects.filter(report=original).values_list("email", flat=True)) \
        == {"first@example.dk", "nabo@example.dk", "second@example.dk"}
    assert last_event(original.pk).kind == "merged"
    assert f"#{original.pk}" in last_event(duplicate.pk).public_text
    with pytest.raises(InvalidInput):
        triage.report_merge(actor=world["caseworker"], report_id=original.pk,
                            into_id=file_report(lon_lat=(12.57, 55.68)).pk)  # other town


def test_bulk_reports_each_outcome_and_one_refusal_does_not_stop_the_rest(world):
    ours = [file_report().pk for _ in range(3)]
    theirs = file_report(category="playground").pk  # routed to nature
    triage.report_set_status(actor=world["caseworker"], report_id=ours[0],
                             to_status="resolved", public_text="Lappet")
    result = triage.reports_bulk(actor=world["caseworker"], report_ids=[*ours, theirs],
                                 action="status", to_status="in_progress")
    assert result.done == ours[1:]
    assert set(result.failed) == {ours[0], theirs}
    assert "cannot handle" in result.failed[theirs]
    assert Report.objects.get(pk=theirs).status == "submitted"
    with pytest.raises(InvalidInput):
        triage.reports_bulk(actor=world["caseworker"], report_ids=ours, action="delete")
