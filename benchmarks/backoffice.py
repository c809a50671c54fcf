"""Send-and-sync with a back office: N reports filed on the front are sent on by the
notification worker to another OS2geo (its own database and web process) over Open311, the
back office is killed once mid-send and started again, its staff then move every case on,
and the front's worker reads the statuses back.

    .venv/bin/python benchmarks/backoffice.py [--reports 1000]
    .venv/bin/python benchmarks/backoffice.py --smoke     # a fresh database, 40 reports

Printed: the time to send them all and to sync them all back, the worker's retries, and
the audit: reports the back office got twice (duplicates), reports that never became a
case (lost), reports on the front whose status did not follow, and updates applied more
than once. The floor is the same Open311 POSTs made directly from this process, one after
another, with no outbox, worker or retries in between (the back office's own pace).
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _setup import ROOT, run_benchmark  # noqa: E402

BALLERUP = (12.3630, 55.7304)


def wait_until(condition, timeout: float, what: str) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if condition():
            return time.monotonic() - start
        time.sleep(0.2)
    raise SystemExit(f"timed out waiting for {what}")


def run(args, url: str) -> None:
    from django.conf import settings
    from django.contrib.gis.geos import Point
    from django.db.models import Sum

    from reports import services
    from reports.integration import client
    from reports.models import (
        Destination,
        ExternalCase,
        ExternalUpdate,
        Municipality,
        Notification,
        Report,
    )
    from tests.backoffice import back_office
    from tests.servers import service_env

    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True  # the back office is on loopback
    n = 40 if args.smoke else args.reports
    ballerup = Municipality.objects.get(code="0151")
    # An earlier run's back office is gone: its destination would take every new report too.
    Destination.objects.update(active=False)
    Notification.objects.filter(state__in=["pending", "sending"]).update(state="dead")
    with back_office() as office:
        destination = Destination.objects.create(
            name=f"Sagssystem {uuid.uuid4().hex[:6]}", municipality=ballerup,
            endpoint=office.endpoint, api_key=office.api_key, jurisdiction_id="0151",
            service_codes={"pothole": "VEJ-HUL"})

        start = time.monotonic()
        for i in range(n):  # the floor: the back office's own pace for the same POSTs
            client.post(destination, "requests.json", {
                "service_code": "VEJ-HUL", "lat": str(BALLERUP[1]), "long": str(BALLERUP[0]),
                "description": f"Floor {i}"}, idempotency_key=uuid.uuid4().hex)
        floor = time.monotonic() - start

        reports = [services.report_create(
            location=Point(BALLERUP[0] + (i % 50) * 0.0002, BALLERUP[1] + (i // 50) * 0.0002,
                           srid=4326), category_code="pothole",
            description=f"Hul nr. {i}") for i in range(n)]
        ids = [r.pk for r in reports]
        cases = ExternalCase.objects.filter(destination=destination)
        sent = cases.filter(state=ExternalCase.State.SENT)

        worker = subprocess.Popen(
            [sys.executable, "manage.py", "reports_notify_worker"], cwd=ROOT,
            env=service_env(DATABASE_URL=url, NOTIFY_BACKOFF_SECONDS="1",
                            NOTIFY_MAX_BACKOFF_SECONDS="2", NOTIFY_MAX_ATTEMPTS="100",
                            DESTINATION_POLL_SECONDS="1"),
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            start = time.monotonic()
            wait_until(lambda: sent.count() >= n // 3, 600, "a third of the sends")
            office.kill()                 # the back office dies mid-send ...
            time.sleep(2)
            office.start()                # ... and comes back on the same port
            wait_until(lambda: sent.count() == n, 1200, "every send")
            send_time = time.monotonic() - start

            office.python("""
from reports import services
from reports.models import Report
for r in Report.objects.filter(description__regex=r"/reports/[0-9]+$").exclude(
        status="in_progress"):
    services.report_transition(report_id=r.pk, to_status="in_progress",
                               actor_label="Driften", public_text="Vi er i gang.")
""")
            start = time.monotonic()
            following = Report.objects.filter(pk__in=ids, status="in_progress")
            wait_until(lambda: following.count() == n, 600, "every status back")
            sync_time = time.monotonic() - start
        finally:
            worker.send_signal(signal.SIGTERM)
            worker.wait(60)

        rows = Notification.objects.filter(destination=destination, event="open311.request")
        attempts = rows.aggregate(total=Sum("attempts"))["total"] or 0
        linked = office.sql(
            "SELECT substring(description from '/reports/([0-9]+)$') AS front, count(*) "
            "FROM reports_report WHERE description ~ '/reports/[0-9]+$' GROUP BY 1")
        counts = {int(front): count for front, count in linked}
        duplicates = sum(count - 1 for count in counts.values() if count > 1)
        lost = sum(1 for i in ids if i not in counts)
        not_following = n - Report.objects.filter(pk__in=ids, status="in_progress").count()
        status_rows = Report.objects.filter(pk__in=ids, events__kind="status").count()
        applied = ExternalUpdate.objects.filter(destination=destination,
                                                outcome__startswith="applied").count()

    print(f"\nsend-and-sync, {n} reports, one back office killed and restarted mid-send")
    print(f"  floor: the same POSTs made directly, one after another: {floor:.2f} s "
          f"({n / floor:.0f}/s)")
    print(f"  send: every report a case there after {send_time:.2f} s "
          f"({n / send_time:.0f}/s; ratio to floor {send_time / floor:.2f}, kill included)")
    print(f"  sync: every status back after {sync_time:.2f} s (poll every 1 s)")
    print(f"  retries: {attempts - n} (attempts {attempts} for {n} sends)")
    print(f"  duplicates: {duplicates}  lost: {lost}  not following: {not_following}  "
          f"status rows per report: {status_rows / n:.2f}  updates applied: {applied}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reports", type=int, default=1000)
    parser.add_argument("--smoke", action="store_true")
    run_benchmark(parser.parse_args(), run)


if __name__ == "__main__":
    main()
