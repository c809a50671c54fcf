"""OS2geo as the municipality's front, another OS2geo (its own database and web process)
as the back office behind it, over Open311: reports flow out, staff changes made in the
back office flow back, the front's replies flow on; faults in the worker and the back
office lose and double nothing."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest
from django.test import override_settings

from reports import services
from reports.integration import client, sending, syncing
from reports.models import Destination, ExternalCase, ExternalUpdate, Notification, Report
from reports.notifications.worker import run_once
from reports.staff import triage
from tests.backoffice import back_office
from tests.reports.factories import file_report, member
from tests.reports.worlds import roads_world
from tests.servers import ROOT, service_env

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def office(django_db_setup, django_db_blocker):
    with django_db_blocker.unblock(), back_office() as office:
        yield office


@pytest.fixture
def front(committed_reference_data, office, settings):
    settings.NOTIFY_BACKOFF_SECONDS = 0
    world = roads_world()
    world["destination"] = Destination.objects.create(
        name="Sagssystem", municipality=world["ballerup"], endpoint=office.endpoint,
        api_key=office.api_key, jurisdiction_id="0151", service_codes={"pothole": "VEJ-HUL"})
    world["caseworker"] = member("vej", "caseworker", world["roads"])
    return world


def office_cases(office, report_id: int) -> list[tuple]:
    """The back office's reports that link to this front report."""
    return office.sql("SELECT id, status, description FROM reports_report "
                      "WHERE description LIKE %s", (f"%/reports/{report_id}",))


def office_transition(office, their_id: str, to_status: str, text: str) -> None:
    office.python(f"""
from reports import services
services.report_transition(report_id={int(their_id)}, to_status={to_status!r},
                           actor_label="Driften", public_text={text!r})
""")


def test_a_report_becomes_a_case_and_the_back_office_status_comes_back_once(office, front):
    report = file_report(description="Dybt hul ved busstoppestedet",
                         reporter=services.Reporter(name="Ib Hansen", email="ib@example.dk"))
    assert run_once() == (1, 0) or Notification.objects.filter(
        channel="open311", state="sent").count() == 1
    case = ExternalCase.objects.get(report=report)
    assert case.state == "sent" and case.service_request_id
    [(their_id, status, description)] = office_cases(office, report.pk)
    assert str(their_id) == case.service_request_id and status == "submitted"
    assert description == f"Dybt hul ved busstoppestedet\n\n{sending.report_link(report.pk)}"
    # the back office's category, by the destination's code table
    assert office.sql("SELECT c.code FROM reports_report r JOIN reports_category c "
                      "ON c.id = r.category_id WHERE r.id = %s", (their_id,)) == [("VEJ-HUL",)]

    office_transition(office, case.service_request_id, "in_progress", "Vi kører ud i dag.")
    run = syncing.destination_sync(front["destination"])
    assert (run.fetched, run.applied, run.failed) == (1 + run.skipped, 1, 0), run
    report.refresh_from_db()
    assert report.status == "in_progress"
    texts = list(report.events.values_list("public_text", flat=True))
    assert "Vi kører ud i dag." in texts

    again = syncing.destination_sync(front["destination"])  # the same window, read again
    assert again.applied == 0 and again.skipped == again.fetched
    assert report.events.filter(kind="status").count() == 1  # in_progress, once

    office_transition(office, case.service_request_id, "rejected", "Privat fællesvej.")
    syncing.destination_sync(front["destination"])
    report.refresh_from_db()
    assert report.status == "rejected"
    assert ExternalUpdate.objects.filter(destination=front["destination"]).count() == 2
    # The change came from the back office: nothing is sent back to it.
    assert not Notification.objects.filter(channel="open311", event="open311.update").exists()


def test_a_staff_reply_on_the_front_reaches_the_back_office_timeline(office, front):
    report = file_report(description="Skilt væltet")
    run_once()
    case = ExternalCase.objects.get(report=report)
    triage.report_reply(actor=front["caseworker"], report_id=report.pk,
                        text="Vi har sendt en vognmand.")
    run_once()
    assert Notification.objects.get(event="open311.update").state == "sent"
    rows = office.sql("SELECT e.kind, e.public_text FROM reports_reportevent e "
                      "WHERE e.report_id = %s AND e.kind = 'citizen_update'",
                      (int(case.service_request_id),))
    assert rows == [("citizen_update", "Vi har sendt en vognmand.")]
    # ... and that update does not come back to the front as one of the back office's.
    run = syncing.destination_sync(front["destination"])
    assert run.applied == 0


def test_a_stale_update_never_overwrites_a_newer_state(office, front):
    report = file_report()
    run_once()
    case = ExternalCase.objects.get(report=report)
    newer = syncing.Update(update_id="x2", service_request_id=case.service_request_id,
                           status="closed", detailed_status="resolved",
                           updated_at=syncing.parse_datetime("2026-12-01T12:00:00+01:00"),
                           description="Lappet.")
    older = syncing.Update(update_id="x1", service_request_id=case.service_request_id,
                           status="open", detailed_status="in_progress",
                           updated_at=syncing.parse_datetime("2026-12-01T11:00:00+01:00"),
                           description="I gang.")
    assert syncing.apply_update(front["destination"], newer) == "applied: resolved"
    assert syncing.apply_update(front["destination"], older).startswith("skipped: older")
    assert syncing.apply_update(front["destination"], newer) == "skipped: seen before"
    report.refresh_from_db()
    assert report.status == "resolved"


def test_a_send_whose_answer_was_lost_is_not_made_twice(office, front):
    """The worker died after the back office accepted the report and before the id was
    recorded: the retry carries the same Idempotency-Key and gets the first case back."""
    report = file_report(description="Glemt svar")
    destination = front["destination"]
    first = client.post(destination, "requests.json",
                        sending._request_fields(report, destination),
                        idempotency_key=sending.idempotency_key(report.pk, destination.pk))
    assert ExternalCase.objects.get(report=report).service_request_id == ""
    run_once()
    case = ExternalCase.objects.get(report=report)
    assert case.service_request_id == first[0]["service_request_id"]
    assert len(office_cases(office, report.pk)) == 1


def test_a_refused_report_fails_its_case_and_shows_why(office, front):
    front["destination"].service_codes = {"pothole": "NO-SUCH-SERVICE"}
    front["destination"].save()
    report = file_report()
    run_once()
    case = ExternalCase.objects.get(report=report)
    assert case.state == "failed" and "NO-SUCH-SERVICE" in case.last_error
    assert Notification.objects.get(channel="open311").state == "dead"
    assert office_cases(office, report.pk) == []


def worker_process(**env: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "reports_notify_worker"], cwd=ROOT,
        env=service_env(NOTIFY_BACKOFF_SECONDS="1", NOTIFY_MAX_BACKOFF_SECONDS="2",
                        NOTIFY_LEASE_SECONDS="3", NOTIFY_MAX_ATTEMPTS="50",
                        DESTINATION_POLL_SECONDS="1", **env),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_until(condition, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.3)
    raise AssertionError("timed out")


@override_settings(NOTIFY_MAX_ATTEMPTS=50)
def test_killing_the_worker_and_the_back_office_mid_send_loses_and_doubles_nothing(
        office, front):
    reports = [file_report(description=f"Nr. {n}") for n in range(60)]
    ids = [r.pk for r in reports]
    sent = ExternalCase.objects.filter(report_id__in=ids, state="sent")
    worker = worker_process()
    try:
        wait_until(lambda: sent.count() >= 5)
        worker.send_signal(signal.SIGKILL)          # the worker, mid-send
        worker.wait(10)
        office.kill()                                # and the back office with it
        worker = worker_process()
        time.sleep(2)                                # sends fail meanwhile, and are retried
        office.start()
        wait_until(lambda: sent.count() == len(ids))
    finally:
        worker.send_signal(signal.SIGTERM)
        worker.wait(30)
    counts = office.sql(
        "SELECT substring(description from '/reports/([0-9]+)$'), count(*) "
        "FROM reports_report GROUP BY 1 HAVING substring(description from "
        "'/reports/([0-9]+)$') = ANY(%s)", ([str(i) for i in ids],))
    assert sorted(int(i) for i, _ in counts) == sorted(ids)   # every report arrived ...
    assert {n for _, n in counts} == {1}                      # ... once
    their_ids = set(ExternalCase.objects.filter(report_id__in=ids)
                    .values_list("service_request_id", flat=True))
    assert len(their_ids) == len(ids)
    assert Report.objects.filter(pk__in=ids).count() == len(ids)


def test_staff_see_a_refused_send_in_danish_and_retry_it_once_it_is_fixed(office, front,
                                                                          client):
    front["destination"].service_codes = {"pothole": "NO-SUCH-SERVICE"}
    front["destination"].save()
    report = file_report()
    run_once()
    client.force_login(front["caseworker"])
    page = client.get(f"/staff/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Fagsystemer" in page and "Ikke sendt" in page and "NO-SUCH-SERVICE" in page
    assert 'id="form-retry-send"' in page
    front["destination"].service_codes = {"pothole": "VEJ-HUL"}  # the admin fixes the table
    front["destination"].save()
    report.refresh_from_db()
    response = client.post(f"/staff/reports/{report.pk}/retry-send/",
                           {"version": report.version})
    assert response.status_code == 302
    run_once()
    case = ExternalCase.objects.get(report=report)
    assert case.state == "sent" and len(office_cases(office, report.pk)) == 1
    page = client.get(f"/staff/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Sendt: alle systemer" in page and case.service_request_id in page
    assert 'id="form-retry-send"' not in page


def test_a_report_is_sent_only_when_both_destinations_accepted_it(office, front):
    second = Destination.objects.create(
        name="Entreprenør", municipality=front["ballerup"], endpoint=office.endpoint,
        api_key="os2geo_wrong_key", jurisdiction_id="0151",
        service_codes={"pothole": "VEJ-HUL"})
    report = file_report()
    run_once()
    cases = list(ExternalCase.objects.filter(report=report).order_by("destination_id"))
    assert [c.state for c in cases] == ["sent", "failed"]     # a wrong key is a 403
    assert sending.send_state(cases) == "failed"
    second.api_key = office.api_key
    second.save()
    sending.cases_retry(actor=front["caseworker"], report_id=report.pk)
    run_once()
    cases = list(ExternalCase.objects.filter(report=report))
    assert sending.send_state(cases) == "sent"
    assert len(office_cases(office, report.pk)) == 2          # one case in each system


def test_a_status_change_in_the_back_office_reaches_the_front_report_page_live(
        office, front, tmp_path):
    """Every part a real process: the front's web process (the report page's socket),
    the front's worker (sends, polls), Redis between them, and the back office."""
    import json

    from websockets.sync.client import connect

    from tests.servers import daphne_server, redis_server

    report = file_report(description="Live hele vejen")
    Notification.objects.filter(report=report).exclude(channel="open311").delete()
    with redis_server() as redis_url, daphne_server(REDIS_URL=redis_url) as port:
        worker = worker_process(REDIS_URL=redis_url)
        try:
            wait_until(lambda: ExternalCase.objects.filter(report=report, state="sent")
                       .exclude(service_request_id="").exists(), 60)
            case = ExternalCase.objects.get(report=report)
            with connect(f"ws://127.0.0.1:{port}/ws/reports/{report.pk}/",
                         open_timeout=10) as page:
                assert json.loads(page.recv(timeout=10))["type"] == "report.snapshot"
                office_transition(office, case.service_request_id, "resolved",
                                  "Hullet er lappet.")
                event = json.loads(page.recv(timeout=30))  # the worker polls every 1 s
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(30)
    assert event["type"] == "report.updated"
    assert event["feature"]["properties"]["status"] == "resolved"
    report.refresh_from_db()
    assert report.status == "resolved"


def test_a_hanging_back_office_costs_a_poll_one_deadline_not_one_per_waiting_case(
        front, settings):
    """Cases waiting for their token to resolve are asked about in the worker's loop: a
    back office that accepts connections and never answers is asked once per poll."""
    import socket
    import threading

    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(50)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])   # and never answer
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    hanging = Destination.objects.create(
        name="Hænger", municipality=front["ballerup"],
        endpoint=f"http://127.0.0.1:{listener.getsockname()[1]}/open311/v2/")
    for n in range(30):
        report = file_report(description=f"Token {n}")
        ExternalCase.objects.filter(report=report, destination=hanging).update(
            state="sent", token=f"token-{n}")
    try:
        run = syncing.destination_sync(hanging)
    finally:
        stop.set()
        thread.join(5)
        for connection in accepted:
            connection.close()
        listener.close()
    assert len(accepted) == 1
    assert run.failed == 1 and run.fetched == 0 and "token" in run.errors[0]
