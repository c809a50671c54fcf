"""Two workers at once, each with its own database connection: nothing is sent twice."""

from __future__ import annotations

import threading

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

        def work():
            try:
                totals.append(run_once(batch=3))
            finally:
                connection.close()

        workers = [threading.Thread(target=work) for _ in range(2)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(120)
    ids = sorted(int(r["body"].split(b'"report_id":')[1].split(b",")[0]) for r in received)
    assert ids == sorted(r.pk for r in reports)            # every one, none twice
    assert sum(delivered for delivered, _ in totals) == 40
    assert all(done for done, _ in totals), totals         # both workers took a share
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
