"""Tests never touch a database that is not a test database: not through a fixture that
forgets the test database, not through a process a test starts, not in a subset run."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
from django.db import connections

from tests.servers import ROOT, current_database_url


def test_a_connection_to_a_non_test_database_is_refused(django_db_setup, django_db_blocker):
    settings = {**connections["default"].settings_dict, "NAME": "os2geo"}
    settings["OPTIONS"] = {k: v for k, v in settings["OPTIONS"].items() if k != "pool"}
    wrapper = connections["default"].__class__(settings, alias="guard-check")
    with django_db_blocker.unblock(), pytest.raises(RuntimeError, match="not a test database"):
        wrapper.ensure_connection()


def test_a_process_is_never_started_on_a_non_test_database(django_db_setup, monkeypatch):
    monkeypatch.setitem(connections["default"].settings_dict, "NAME", "os2geo")
    with pytest.raises(RuntimeError, match="not a test database"):
        current_database_url()


def _admin(url: str) -> psycopg.Connection:
    parts = urlsplit(url)
    return psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True)


def _counts(url: str) -> dict[str, int]:
    """Rows per table of the database's public schema."""
    with psycopg.connect(url) as conn:
        tables = [t for (t,) in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")]
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}


def test_a_subset_run_of_the_browser_tests_leaves_the_development_database_as_it_was(
        django_db_setup, django_db_blocker, tmp_path):
    """What `script/test tests/frontend -k …` does, against a development database of its
    own: the run passes on its test copy, and the development database is unchanged."""
    with django_db_blocker.unblock():
        test_url = current_database_url()
    name = f"os2geo_dev_{uuid.uuid4().hex[:8]}"
    dev_url = urlunsplit(urlsplit(test_url)._replace(path=f"/{name}"))
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "DEBUG": "1",
           "DATABASE_URL": dev_url, "CHROMIUM_PATH": os.environ.get("CHROMIUM_PATH", "")}
    with _admin(test_url) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(dev_url, autocommit=True) as dev:
            dev.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                       check=True, timeout=300)
        with psycopg.connect(dev_url, autocommit=True) as dev:  # the developer's own data
            dev.execute("INSERT INTO reports_klesubject (number, title, level, retired, "
                        "replaced_by) VALUES ('99', 'Udviklerens egne data', 'hovedgruppe', "
                        "false, '')")
        before = _counts(dev_url)
        run = subprocess.run(
            [sys.executable, "-m", "pytest", "tests/frontend/test_basemap.py", "-k", "blocked",
             "-p", "no:cacheprovider", "-q"], cwd=ROOT, env=env, capture_output=True,
            text=True, timeout=600)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        assert "1 passed" in run.stdout
        assert _counts(dev_url) == before
        assert before["reports_klesubject"] == 1
    finally:
        with _admin(test_url) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'DROP DATABASE IF EXISTS "test_{name}" WITH (FORCE)')
