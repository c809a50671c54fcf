"""Idempotency-Key under real concurrency: simultaneous requests to a real server."""

from __future__ import annotations

import http.client
import json
import threading

import pytest

from reports.models import Report
from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)
from tests.servers import daphne_server

pytestmark = pytest.mark.django_db(transaction=True)


def test_simultaneous_posts_with_one_key_make_one_report(tmp_path, committed_reference_data):
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05",
                       department=DepartmentFactory(municipality=municipality))
    body = json.dumps({"location": {"type": "Point", "coordinates": list(BALLERUP_TOWN)},
                       "category": "pothole", "description": "Samtidig"})
    with daphne_server(log_path=tmp_path / "daphne.log", DATABASE_POOL_MAX_SIZE="8",
                       ANONYMOUS_POSTS_PER_MINUTE="1000") as port:
        for round_ in range(5):
            key = f"race-{round_}"
            barrier = threading.Barrier(4)
            results: list[tuple[int, bytes]] = []

            def send(barrier=barrier, key=key, results=results):
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                barrier.wait()
                connection.request("POST", "/api/v1/reports/", body,
                                   {"Content-Type": "application/json", "Idempotency-Key": key})
                response = connection.getresponse()
                results.append((response.status, response.read()))

            threads = [threading.Thread(target=send) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            statuses = sorted(status for status, _ in results)
            assert len(statuses) == 4 and set(statuses) <= {201, 409}, results
            created = {json.loads(body_)["id"] for status, body_ in results if status == 201}
            assert len(created) == 1, results  # replays carry the same report
    assert Report.objects.count() == 5
