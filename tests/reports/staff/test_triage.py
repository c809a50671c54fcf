"""Staff triage services: scope, version checks, timeline rows, mails and live events."""

from __future__ import annotations

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.core.exceptions import PermissionDenied

from geoservice.errors import InvalidInput, StaleVersion
from reports import services
from reports.live import events
from reports.models import Notification
from reports.notifications.worker import run_once
from reports.staff import triage
from tests.reports.factories import (
    COPENHAGEN_CITY,
    file_report,
)
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


def test_public_reply_reaches_the_timeline_followers_and_live_clients(
        world, django_capture_on_commit_callbacks):
    report = file_report(reporter=services.Reporter(email="borger@example.dk"))
    run_once()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks() as callbacks:
        triage.report_reply(actor=world["caseworker"], report_id=report.pk,
                            text="Vi kommer i morgen", expected_version=1)
    assert len(callbacks) == 1  # the live event, after commit
    report.refresh_from_db()
    assert report.version == 2 and report.status == "submitted"
    event = report.events.last()
    assert (event.kind, event.public_text, event.actor) == ("public_reply",
                                                            "Vi kommer i morgen",
                                                            world["caseworker"])
    run_once()
    (update,) = mail.outbox
    assert update.to == ["borger@example.dk"] and "Vi kommer i morgen" in update.body


def test_internal_note_stays_internal(world, client):
    report = file_report()
    triage.report_note(actor=world["caseworker"], report_id=report.pk, text="Ring til entreprenør")
    assert report.events.last().internal_text == "Ring til entreprenør"
    assert "entreprenør" not in client.get(f"/api/v1/reports/{report.pk}/").content.decode()
    report.refresh_from_db()
    assert report.version == 1  # nothing public changed


def _department_listener(department_id: int):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(events.department_group(department_id), channel)
    return lambda: async_to_sync(layer.receive)(channel)["event"]


def test_reroute_moves_the_report_and_tells_both_departments(
        world, django_capture_on_commit_callbacks):
    report = file_report()
    Notification.objects.all().delete()
    old_queue = _department_listener(world["roads"].pk)
    new_queue = _department_listener(world["nature"].pk)
    with pytest.raises(InvalidInput):
        triage.report_reroute(actor=world["caseworker"], report_id=report.pk,
                              department_id=world["cph"].pk)  # another municipality
    with django_capture_on_commit_callbacks(execute=True):
        triage.report_reroute(actor=world["caseworker"], report_id=report.pk,
                              department_id=world["nature"].pk, reason="Det er en park")
    for queue in (old_queue, new_queue):
        event = queue()
        assert event["feature"]["properties"]["department"]["name"] == "Natur og Miljø"
        assert event["version"] == 2
    report.refresh_from_db()
    assert report.department == world["nature"] and report.version == 2
    assert Notification.objects.get(channel="email").recipient == "natur@b.dk"
    event = report.events.last()
    assert event.kind == "rerouted" and "Vej og Park → Natur og Miljø" in event.internal_text
    # The caseworker of Vej og Park no longer handles it.
    with pytest.raises(PermissionDenied):
        triage.report_note(actor=world["caseworker"], report_id=report.pk, text="x")


def test_staff_outside_the_department_cannot_act(world):
    report = file_report()
    other = file_report(lon_lat=COPENHAGEN_CITY)
    for action in (
        lambda: triage.report_reply(actor=world["outsider"], report_id=report.pk, text="x"),
        lambda: triage.report_note(actor=world["outsider"], report_id=report.pk, text="x"),
        lambda: triage.report_assign(actor=world["outsider"], report_id=report.pk,
                                     assignee_id=None),
        lambda: triage.report_reply(actor=world["caseworker"], report_id=other.pk, text="x"),
    ):
        with pytest.raises(PermissionDenied):
            action()
    report.refresh_from_db()
    assert report.version == 1


def test_assign_only_to_colleagues_and_stale_versions_are_refused(world):
    report = file_report()
    with pytest.raises(InvalidInput):
        triage.report_assign(actor=world["caseworker"], report_id=report.pk,
                             assignee_id=world["outsider"].pk)
    triage.report_assign(actor=world["caseworker"], report_id=report.pk,
                         assignee_id=world["colleague"].pk, expected_version=1)
    report.refresh_from_db()
    assert report.assigned_to == world["colleague"] and report.version == 2
    with pytest.raises(StaleVersion):
        triage.report_reply(actor=world["colleague"], report_id=report.pk, text="x",
                            expected_version=1)
