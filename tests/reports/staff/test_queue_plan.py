"""The staff queue at a large municipality's scale: its page count is read from an index."""

from __future__ import annotations

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.test.utils import CaptureQueriesContext

from reports.lifecycle import OPEN_STATUSES
from reports.staff import selectors as staff
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


def test_the_queue_count_reads_only_the_department_status_index():
    """The paginator counts the open reports of the caseworker's departments on every queue
    page (tens of thousands in a large municipality): an index-only scan, never the heap."""
    world = staff_world()
    queue = staff.staff_queue(world["caseworker"],
                             staff.QueueFilters(statuses=sorted(OPEN_STATUSES)))
    with CaptureQueriesContext(connection) as captured:
        Paginator(queue, 50).count  # noqa: B018 (the count the queue page runs)
    (count_sql,) = [q["sql"] for q in captured.captured_queries]
    assert count_sql.startswith("SELECT COUNT(*)"), count_sql
    with connection.cursor() as cursor:
        # The test data is small, and its statistics depend on what ran before: leave the
        # planner only the scans that read no heap, so the plan says whether an index can
        # answer the count alone (without one it falls back to a disabled scan).
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("EXPLAIN " + count_sql)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using report_department_status" in plan, plan
