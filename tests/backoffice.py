"""A second OS2geo playing a municipality's back office: its own database (a test_…
database beside the tests' one, migrated and given Ballerup with a pothole category), its
own web process serving Open311, and an API key for the front. Used by the integration
tests and benchmarks/backoffice.py."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from tests.servers import (
    ROOT,
    current_database_url,
    free_port,
    run_python,
    service_env,
    wait_for_port,
)

# Not tests.conftest's loader: importing conftest arms the tests' guard against every
# database not named test_…, and benchmarks/backoffice.py runs this on its own database.
SETUP = """
from pathlib import Path
from maps.importers.areas import import_areas
from maps.models import Area
from reports.importers.kle import import_kle
from tests.reports.factories import CategoryFactory, DepartmentFactory, RoutingRuleFactory, \\
    served_municipality
from reports.api.keys import api_key_issue
from reports.models import ApiClient, Municipality
data = Path("data")
import_kle(data / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml.gz")
import_areas(data / "boundaries" / "dagi-2014" / "kommuner.geojson.gz",
             kind=Area.Kind.MUNICIPALITY, code_field="KOMKODE", name_field="KOMNAVN")
ballerup = served_municipality("0151")
CategoryFactory(municipality=ballerup, code="VEJ-HUL", name="Hul i vejen (sagssystem)")
roads = DepartmentFactory(municipality=ballerup, name="Driftsafdelingen")
RoutingRuleFactory(municipality=ballerup, kle_prefix="05", department=roads)
client = ApiClient.objects.create(name="OS2geo front", municipality=ballerup,
                                  rate_limit_per_minute=100000)
print(api_key_issue(client=client, label="front"))
"""


@dataclass
class BackOffice:
    database_url: str
    api_key: str
    port: int = 0
    process: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}/open311/v2/"

    def start(self) -> None:
        """Serve (again, on the same port after a stop or a kill)."""
        self.port = self.port or free_port()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "geoservice.serve", "-b", "127.0.0.1", "-p",
             str(self.port), "geoservice.asgi:application"], cwd=ROOT,
            env=service_env(DATABASE_URL=self.database_url), stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)
        self.process = None

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
        self.process = None

    def sql(self, statement: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.database_url.replace("postgres://", "postgresql://"),
                             autocommit=True) as conn:
            return conn.execute(statement, params).fetchall()

    def python(self, code: str) -> str:
        """Run Django code in the back office (its staff at work)."""
        return run_python(code, DATABASE_URL=self.database_url)


def _admin_url(url: str, name: str) -> str:
    base, _, query = url.partition("?")
    return base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")


@contextmanager
def back_office(suffix: str = "backoffice") -> Iterator[BackOffice]:
    """A migrated back-office database and its web process; dropped afterwards."""
    front = current_database_url()  # refuses anything but a test database
    name = front.partition("?")[0].rsplit("/", 1)[1] + f"_{suffix}"
    maintenance = _admin_url(front, "postgres").replace("postgres://", "postgresql://")
    with psycopg.connect(maintenance, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _admin_url(front, name)
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                       cwd=ROOT, env=service_env(DATABASE_URL=url), check=True,
                       capture_output=True, timeout=300)
        key = run_python(SETUP, DATABASE_URL=url).strip().splitlines()[-1]
        office = BackOffice(database_url=url, api_key=key)
        office.start()
        try:
            yield office
        finally:
            office.stop()
    finally:
        with psycopg.connect(maintenance, autocommit=True) as conn, \
                contextlib.suppress(psycopg.Error):
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
