"""Shared set-up for benchmarks: a separate database (`<name>_bench`), migrated, with the
demo reference data, and a fast SQL seeder for many reports. Never part of the test suite."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def bench_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        socket = ROOT / "var" / "postgres" / "run"
        if not socket.exists():
            sys.exit("DATABASE_URL is unset and there is no local cluster: run script/test once.")
        url = f"postgres://postgres@/os2geo?host={socket}"
    parts = urlsplit(url)
    name = parts.path.lstrip("/") or "os2geo"
    return urlunsplit(parts._replace(path=f"/{name}_bench"))


def setup_django() -> str:
    """Point Django at the benchmark database (created if missing) and migrate it."""
    import psycopg

    url = bench_database_url()
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoservice.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    db = settings.DATABASES["default"]
    admin = psycopg.connect(dbname="postgres", user=db["USER"] or None,
                            host=db["HOST"] or None, port=db["PORT"] or None,
                            password=db["PASSWORD"] or None, autocommit=True)
    exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                           [db["NAME"]]).fetchone()
    if not exists:
        admin.execute(f'CREATE DATABASE "{db["NAME"]}"')
    admin.close()
    call_command("migrate", verbosity=0)
    from reports.demo import demo_loaded, load_demo

    if not demo_loaded():
        print("Loading reference data (KLE, boundaries, demo set-up) into", db["NAME"])
        load_demo(reports_per_municipality=20, log=lambda line: None)
    return url


def psycopg_connect():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(dbname=db["NAME"], user=db["USER"] or None, host=db["HOST"] or None,
                           port=db["PORT"] or None, password=db["PASSWORD"] or None,
                           autocommit=True)


# Raw SQL: seeding a million rows through the services would take hours; the rows are
# consistent enough for reading benchmarks (a Ballerup category and department each).
SEED_SQL = """
WITH c AS (SELECT array_agg(id) ids FROM reports_category WHERE municipality_id = %(m)s),
     d AS (SELECT array_agg(id) ids FROM reports_department WHERE municipality_id = %(m)s)
INSERT INTO reports_report (municipality_id, category_id, department_id, location, address,
    description, public_description, answers, status, needs_triage, routing_explanation,
    reporter_name, reporter_email, reporter_phone, source, token, device_id, account_id,
    media_url, version, created_at, updated_at)
SELECT %(m)s, c.ids[1 + floor(random() * array_length(c.ids, 1))::int],
       d.ids[1 + floor(random() * array_length(d.ids, 1))::int],
       ST_SetSRID(ST_MakePoint(%(x0)s + random() * %(dx)s, %(y0)s + random() * %(dy)s), 4326),
       'Benchmarkvej ' || g, 'Benchmark report number ' || g, 'Benchmark report number ' || g,
       '{}'::jsonb,
       (ARRAY['submitted','acknowledged','in_progress','resolved','rejected'])
           [1 + floor(random() * 5)::int],
       false, '', '', '', '', 'demo', gen_random_uuid(), '', '', '', 1,
       now() - random() * interval '365 days', now()
FROM generate_series(1, %(n)s) g, c, d
"""

# The seeded extent: Storkøbenhavn, about 25 x 20 km.
EXTENT = (12.25, 55.60, 12.65, 55.78)


def seed_reports(target: int, chunk: int = 50_000) -> int:
    """Add SQL-generated reports until the table holds `target`; prints progress."""
    from django.db import connection

    from reports.models import Municipality

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_report")
        have = cursor.fetchone()[0]
        if have >= target:
            return have
        municipality = Municipality.objects.get(code="0151").pk
        x0, y0, x1, y1 = EXTENT
        started = time.perf_counter()
        while have < target:
            n = min(chunk, target - have)
            cursor.execute(SEED_SQL, {"m": municipality, "x0": x0, "y0": y0, "dx": x1 - x0,
                                      "dy": y1 - y0, "n": n})
            have += n
            rate = have / max(time.perf_counter() - started, 1e-9)
            print(f"\r  seeding reports: {have:,}/{target:,} ({rate:,.0f}/s)", end="",
                  flush=True)
        print()
        cursor.execute("ANALYZE reports_report")
    return have
