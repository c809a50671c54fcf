"""Shared set-up for benchmarks: a separate database (`<name>_bench`, or `<name>_bench_smoke`
made anew for a smoke run), migrated, with the demo reference data, and a fast SQL seeder
for many reports. Never part of the test suite's assertions: the suite only runs each
benchmark's smoke mode (tests/test_benchmarks.py) so that none can rot.

Every benchmark prints the database settings it ran with (`database_settings`), and its
floor connection runs with the same session options as the service's connections.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Smoke mode: a few thousand rows, a few requests, no timing asserted (tests run it).
SMOKE_REPORTS = 3000


def _base_database_url() -> str:
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    written = ROOT / "var" / "database-url"  # script/server and script/test write it
    if written.exists():
        return written.read_text().strip()
    sys.exit("DATABASE_URL is unset and there is no local cluster: run script/test once.")


def bench_database_url(*, smoke: bool = False, name_suffix: str = "") -> str:
    parts = urlsplit(_base_database_url())
    name = parts.path.lstrip("/") or "os2geo"
    suffix = "_bench_smoke" if smoke else f"_bench{name_suffix}"
    if not name.endswith(suffix):
        name += suffix
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin_connection():
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(dbname="postgres", user=db["USER"] or None,
                           host=db["HOST"] or None, port=db["PORT"] or None,
                           password=db["PASSWORD"] or None, autocommit=True)


def setup_django(*, smoke: bool = False, name_suffix: str = "") -> str:
    """Point Django at the benchmark database (`<name>_bench<name_suffix>`) and migrate it. A
    smoke run starts from an empty database every time: what a new user's first run does."""
    url = bench_database_url(smoke=smoke, name_suffix=name_suffix)
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "geoservice.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    name = settings.DATABASES["default"]["NAME"]
    with _admin_connection() as admin:
        if smoke:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                             [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    call_command("migrate", verbosity=0)
    from reports.importers.demo import demo_loaded, load_demo

    if not demo_loaded():
        print("Loading reference data (KLE, boundaries, demo set-up) into", name, flush=True)
        load_demo(reports_per_municipality=5 if smoke else 20, log=lambda line: None)
    print_database_settings()
    return url


def run_benchmark(args, run) -> None:
    """Set up the benchmark database (a fresh one for --smoke), call `run(args, url)`, and
    drop a smoke database afterwards, whatever happened."""
    url = setup_django(smoke=args.smoke)
    try:
        run(args, url)
    finally:
        if args.smoke:
            drop_smoke_database()


def drop_smoke_database() -> None:
    """After a smoke run: leave nothing behind."""
    from django.conf import settings
    from django.db import connections

    connections.close_all()
    for alias in connections:
        connections[alias].close_pool()
    name = settings.DATABASES["default"]["NAME"]
    if name.endswith("_bench_smoke"):
        with _admin_connection() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


SETTINGS_SHOWN = ("server_version", "jit", "shared_buffers", "work_mem", "effective_cache_size",
                  "random_page_cost", "max_parallel_workers_per_gather", "fsync",
                  "synchronous_commit")


def database_settings() -> dict[str, str]:
    """The settings the service's connections run with (session options included)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                       [list(SETTINGS_SHOWN)])
        rows = {name: (setting, unit) for name, setting, unit in cursor.fetchall()}
    shown = {}
    for name in SETTINGS_SHOWN:
        setting, unit = rows.get(name, ("?", None))
        shown[name] = _with_unit(setting, unit)
    return shown


def _with_unit(setting: str, unit: str | None) -> str:
    """pg_settings' numbers with their units (8kB pages, kB) as PostgreSQL prints them."""
    if unit in ("8kB", "kB") and setting.isdigit():
        kb = int(setting) * (8 if unit == "8kB" else 1)
        for size, suffix in ((1024 * 1024, "GB"), (1024, "MB")):
            if kb >= size and kb % size == 0:
                return f"{kb // size}{suffix}"
        return f"{kb}kB"
    return setting


def print_database_settings() -> None:
    print("database settings:", ", ".join(f"{k}={v}" for k, v in database_settings().items()),
          flush=True)


def psycopg_connect():
    """A connection for the floor, with the same session options as the service's and, as
    Django's, parameters bound on the client (the server plans each statement with its
    values: a tile's envelope is folded into a constant, and its rows estimated)."""
    import psycopg
    from django.conf import settings

    db = settings.DATABASES["default"]
    return psycopg.connect(dbname=db["NAME"], user=db["USER"] or None, host=db["HOST"] or None,
                           port=db["PORT"] or None, password=db["PASSWORD"] or None,
                           options=db["OPTIONS"].get("options", ""), autocommit=True,
                           cursor_factory=psycopg.ClientCursor)


# The seeded extent: Storkøbenhavn, about 25 x 20 km.
EXTENT = (12.25, 55.60, 12.65, 55.78)

# Columns the seeder makes up per row; every other column gets the model's own default, read
# from the model, so that a column added later cannot break the seeder unseen.
_GENERATED = {
    "municipality_id": "%(m)s",
    "category_id": "c.ids[1 + floor(random() * array_length(c.ids, 1))::int]",
    "department_id": "d.ids[1 + floor(random() * array_length(d.ids, 1))::int]",
    "location": "ST_SetSRID(ST_MakePoint(%(x0)s + random() * %(dx)s, "
                "%(y0)s + random() * %(dy)s), 4326)",
    "address": "'Benchmarkvej ' || g",
    "description": "'Benchmark report number ' || g",
    "public_description": "'Benchmark report number ' || g",
    "status": "(ARRAY['submitted','acknowledged','in_progress','resolved','rejected'])"
              "[1 + floor(random() * 5)::int]",
    "source": "'demo'",
    "token": "gen_random_uuid()",
    "created_at": "now() - random() * interval '365 days'",
    "updated_at": "now()",
    "expected_at": "now() + interval '5 days'",
    "confirmed_at": "now() - interval '400 days'",  # public: confirmed and not hidden
    "announced_at": "now() - interval '400 days'",
}


def seed_sql() -> tuple[str, dict]:
    """INSERT … SELECT for `%(n)s` reports: generated columns above, model defaults for the
    rest (nullable columns without a default stay NULL)."""
    from reports.models import Report

    columns, values, params = [], [], {}
    for field in Report._meta.concrete_fields:
        if field.primary_key or getattr(field, "generated", False):
            continue  # the id and columns PostgreSQL computes itself (Report.public)
        column = field.column
        columns.append(column)
        if column in _GENERATED:
            values.append(_GENERATED[column])
            continue
        if field.has_default():
            default = field.get_default()
        elif field.null:
            values.append("NULL")
            continue
        elif getattr(field, "blank", False) and field.get_internal_type() in (
                "CharField", "TextField", "EmailField", "URLField", "SlugField"):
            default = ""
        else:
            raise RuntimeError(f"benchmarks/_setup.py: say how to seed {column}")
        if isinstance(default, (dict, list)):
            default = json.dumps(default)
        elif isinstance(default, dt.datetime):
            values.append("now()")
            continue
        key = f"default_{column}"
        params[key] = default
        values.append(f"%({key})s")
    sql = f"""
WITH c AS (SELECT array_agg(id) ids FROM reports_category WHERE municipality_id = %(m)s),
     d AS (SELECT array_agg(id) ids FROM reports_department WHERE municipality_id = %(m)s)
INSERT INTO reports_report ({", ".join(columns)})
SELECT {", ".join(values)}
FROM generate_series(1, %(n)s) g, c, d
"""
    return sql, params


def seed_reports(target: int, chunk: int = 50_000,
                 places: list[tuple[int, tuple[float, float, float, float]]] | None = None
                 ) -> int:
    """Add SQL-generated reports until the table holds `target`; prints progress. `places`:
    (municipality id, bbox) to spread them over in turn, chunk by chunk; by default Ballerup's
    municipality over EXTENT.

    Raw SQL: seeding a million rows through the services would take hours; the rows are
    consistent enough for reading benchmarks (a category and department of the
    municipality each)."""
    from django.db import connection

    from reports.models import Municipality

    sql, defaults = seed_sql()
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM reports_report")
        have = cursor.fetchone()[0]
        if have >= target:
            return have
        if not places:
            places = [(Municipality.objects.get(code="0151").pk, EXTENT)]
        started, turn, first = time.perf_counter(), 0, have
        while have < target:
            n = min(chunk, target - have)
            municipality, (x0, y0, x1, y1) = places[turn % len(places)]
            turn += 1
            cursor.execute(sql, {**defaults, "m": municipality, "x0": x0, "y0": y0,
                                 "dx": x1 - x0, "dy": y1 - y0, "n": n})
            have += n
            rate = (have - first) / max(time.perf_counter() - started, 1e-9)
            print(f"\r  seeding reports: {have:,}/{target:,} ({rate:,.0f}/s)", end="",
                  flush=True)
        print()
        cursor.execute("ANALYZE reports_report")
    return have
