"""Workers as separate threads and processes: nothing is sent twice, a stopped worker
finishes the delivery in hand and hands the rest back."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from reports.models import Notification, Webhook
from reports.notifications.worker import run_once
from tests.reports.factories import (
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    file_report,
    served_municipality,
)
from tests.reports.notifications.helpers import webhook_receiver
from tests.reports.worlds import roads_world
from tests.servers import ROOT, service_env

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_workers_deliver_each_notification_exactly_once(committed_reference_data):
    municipality = served_municipality()
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality,
                       department=DepartmentFactory(municipality=municipality))
    with webhook_receiver() as (url, received):
        Webhook.objects.create(municipality=municipality, url=url, secret="k")
        reports = [file_report(description=f"Nr. {i}") for i in range(40)]
        totals = []

        def work(name):
            try:
                totals.append(run_once(batch=3, worker=name))
            finally:
                connection.close()

        workers = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
    ids = sorted(int(r["body"].split(b'"report_id":')[1].split(b",")[0]) for r in received)
    assert ids == sorted(r.pk for r in reports)            # every one, none twice
    assert sum(delivered for delivered, _ in totals) == 40
    assert all(done for done, _ in totals), totals         # both workers took a share
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}


def test_sigterm_finishes_the_delivery_in_hand_and_hands_the_rest_back(
        committed_reference_data):
    municipality = served_municipality()
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality,
                       department=DepartmentFactory(municipality=municipality))
    with webhook_receiver([("hang", 2)] * 10) as (url, received):
        Webhook.objects.create(municipality=municipality, url=url, secret="k")
        for i in range(4):
            file_report(description=f"Nr. {i}")
        worker = subprocess.Popen(
            [sys.executable, "manage.py", "reports_notify_worker", "--interval", "0.2"],
            cwd=ROOT, env=service_env(WEBHOOK_ALLOW_PRIVATE_NETWORKS="1"),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 30
        while not received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert received, "the worker never started a delivery"
        worker.send_signal(signal.SIGTERM)  # while the first webhook is still in hand
        output, _ = worker.communicate(timeout=30)
    assert worker.returncode == 0, output
    assert "stopping after the delivery in hand" in output and "stopped" in output
    hooks = Notification.objects.filter(channel=Notification.Channel.WEBHOOK)
    states = sorted(hooks.values_list("state", flat=True))
    assert states.count("sent") == len(received) == 1, (states, output)
    assert states.count("pending") == 3
    assert not hooks.filter(state="pending").exclude(claimed_by="").exists()
    assert set(hooks.filter(state="pending").values_list("attempts", flat=True)) == {0}


# --- findings of the security review (each failed on db7da57) ------------------------------

def _hook_world():
    return roads_world(email="vej@example.dk")["municipality"]


def test_webhooks_to_private_addresses_are_refused_unless_allowed(committed_reference_data,
                                                                  settings):
    from django.core.exceptions import ValidationError

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = False
    municipality = _hook_world()
    with webhook_receiver() as (url, received):
        hook = Webhook(municipality=municipality, url=url, secret="k")
        with pytest.raises(ValidationError, match="private or local"):
            hook.full_clean()
        hook.save()  # as if saved before the rule, or by hand
        file_report()
        run_once()
    row = Notification.objects.get(channel="webhook")
    assert received == [] and row.state == "dead" and "private or local" in row.last_error
    for address in ("http://169.254.169.254/latest/meta-data/", "http://[::1]:8000/",
                    "http://10.1.2.3/hook", "http://localhost/x"):
        with pytest.raises(ValidationError):
            Webhook(municipality=municipality, url=address, secret="k").full_clean()


def test_webhook_redirects_are_not_followed(committed_reference_data):
    municipality = _hook_world()
    with webhook_receiver() as (elsewhere, followed), webhook_receiver([302] * 5) as (url, got):
        Webhook.objects.create(municipality=municipality, url=url, secret="k")
        file_report()
        run_once()
    row = Notification.objects.get(channel="webhook")
    assert len(got) == 1 and followed == []
    assert row.state == "pending" and "redirects are not followed" in row.last_error


def test_a_trickling_webhook_is_cut_off_at_the_total_deadline(committed_reference_data,
                                                             settings):
    """db7da57's timeout applied per read: an endpoint sending a byte every few seconds
    held the worker for as long as it liked."""
    import socket as socket_module

    settings.WEBHOOK_TIMEOUT_SECONDS = 2
    municipality = _hook_world()
    server = socket_module.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def trickle():
        connection_, _ = server.accept()
        connection_.recv(65536)
        for byte in b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n":
            if stop.wait(0.5):
                break
            try:
                connection_.send(bytes([byte]))
            except OSError:
                break
        connection_.close()

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    Webhook.objects.create(municipality=municipality,
                           url=f"http://127.0.0.1:{server.getsockname()[1]}/", secret="k")
    file_report()
    try:
        run_once()
    finally:
        stop.set()
        server.close()
    row = Notification.objects.get(channel="webhook")
    assert row.state == "pending" and "within 2 s" in row.last_error


def test_a_hanging_webhook_does_not_hold_up_the_mail(committed_reference_data, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 6
    municipality = _hook_world()
    with webhook_receiver([("hang", 4)] * 20) as (url, received):
        Webhook.objects.create(municipality=municipality, url=url, secret="k")
        for i in range(3):
            file_report(description=f"Nr. {i}")
        worker = threading.Thread(target=lambda: (run_once(worker="fair"), connection.close()))
        worker.start()
        deadline = time.monotonic() + 3.5
        mails = Notification.objects.filter(channel="email")
        while time.monotonic() < deadline and mails.exclude(state="sent").exists():
            time.sleep(0.1)
        # Every mail went out while the first webhook call still hung.
        assert not mails.exclude(state="sent").exists()
        assert len(received) <= 1
        worker.join(120)


def test_a_receiver_that_keeps_failing_does_not_hold_off_the_status_poll(
        committed_reference_data, settings, monkeypatch):
    """Rows of a dead receiver, due again at once (no backoff), would keep an unbounded
    delivery loop busy for ever; the loop delivers for RUN_SECONDS, then polls."""
    from reports.models import Destination
    from reports.notifications import worker
    from tests.servers import free_port

    settings.NOTIFY_BACKOFF_SECONDS = 0
    settings.NOTIFY_MAX_ATTEMPTS = 1_000_000
    settings.DESTINATION_POLL_SECONDS = 0
    monkeypatch.setattr(worker, "RUN_SECONDS", 0.5)
    world = roads_world()
    Webhook.objects.create(municipality=world["ballerup"], secret="k",
                           url=f"http://127.0.0.1:{free_port()}/nobody-listens")
    for i in range(5):
        file_report(description=f"Nr. {i}")
    destination = Destination.objects.create(
        name="Sagssystem", municipality=world["ballerup"], active=True,
        endpoint=f"http://127.0.0.1:{free_port()}/open311/v2/", department=world["roads"],
        category=None)
    Destination.objects.filter(pk=destination.pk).update(last_sync_at=None)
    stop = threading.Event()
    loop = threading.Thread(target=worker.serve, kwargs={"stop": stop, "interval": 0.1,
                                                         "say": lambda line: None})
    loop.start()
    try:
        deadline = time.monotonic() + 20
        polls = 0
        first = None
        while time.monotonic() < deadline and polls < 2:
            destination.refresh_from_db()
            if destination.last_sync_at and destination.last_sync_at != first:
                first, polls = destination.last_sync_at, polls + 1
            time.sleep(0.1)
        assert polls >= 2, "the status poll did not run while deliveries kept failing"
        assert Notification.objects.filter(channel="webhook", attempts__gte=2).exists()
    finally:
        stop.set()
        loop.join(30)
        connection.close()
