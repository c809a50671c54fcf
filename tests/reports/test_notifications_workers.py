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
from reports.notify_worker import run_once
from tests.reports.factories import (
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    file_report,
    served_municipality,
)
from tests.reports.notify_helpers import webhook_receiver
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
