"""Shared fixtures. The test database gets the real KLE plan, the real municipality
boundaries, districts and addresses once per run; each test then runs in a transaction."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.db.backends.signals import connection_created
from hypothesis import settings as hypothesis_settings

from maps.importers.addresses import import_addresses
from maps.importers.areas import import_areas
from maps.models import Area
from reports.importers.kle import import_kle

DATA = Path(settings.BASE_DIR) / "data"

# --- tests never touch a database that is not a test database -----------------------------
# Every connection a test run opens must be to pytest-django's test_… copy (or to the
# server's maintenance database, where the test database is created and dropped). A fixture
# that reaches the database without the test database set up (as the browser fixtures once
# did: a subset run flushed the development database) fails here instead of deleting real
# data. Processes the tests start get the test database's URL only
# (tests.servers.current_database_url).
MAINTENANCE_DATABASES = {"postgres", "template1"}


def is_test_database(name: str | None) -> bool:
    # None: Django's "no database" connection, which libpq opens to the maintenance database.
    return name is None or name.startswith("test_") or name in MAINTENANCE_DATABASES


def _refuse_other_databases(sender, connection, **kwargs) -> None:
    name = connection.settings_dict["NAME"]
    if not is_test_database(name):
        connection.close()
        raise RuntimeError(f"Refusing to use database {name!r} from the tests: it is not a "
                           "test database. A fixture that reaches the database must depend "
                           "on django_db_setup (or db / transactional_db).")


connection_created.connect(_refuse_other_databases, dispatch_uid="tests-only-test-databases")

# CI runs the property-based tests with fixed seeds so that a landing does not depend on
# luck; developers' runs keep exploring new examples.
hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    hypothesis_settings.load_profile("ci")


def load_reference_data() -> None:
    import_kle(DATA / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml.gz")
    import_areas(DATA / "boundaries" / "dagi-2014" / "kommuner.geojson.gz",
                 kind=Area.Kind.MUNICIPALITY, code_field="KOMKODE", name_field="KOMNAVN")
    import_areas(DATA / "boundaries" / "ballerup" / "postnumre.geojson",
                 kind=Area.Kind.DISTRICT, code_field="nr", name_field="navn", parent_code="0151")
    import_areas(DATA / "boundaries" / "copenhagen" / "bydele.geojson.gz",
                 kind=Area.Kind.DISTRICT, code_field="bydel_nr", name_field="navn",
                 parent_code="0101")
    import_addresses(DATA / "addresses" / "addresses_dawa_testdata_wgs84.csv.gz")


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The test database with the reference data. pytest-django sets up a test database only
    when a collected test is marked for the database; a run of browser tests alone (whose
    fixtures use the database on their own) gets none from it, and then one from here."""
    from django.db import connection
    from django.test.utils import setup_databases, teardown_databases

    own = None
    if not is_test_database(connection.settings_dict["NAME"]):
        with django_db_blocker.unblock():
            own = setup_databases(verbosity=0, interactive=False, aliases={"default"},
                                  serialized_aliases=set())
    with django_db_blocker.unblock():
        load_reference_data()
    yield
    if own is not None:
        with django_db_blocker.unblock():
            teardown_databases(own, verbosity=0)


@pytest.fixture
def data_dir() -> Path:
    return DATA


def pytest_collection_modifyitems(items):
    """Run tests that commit (transaction=True) last: their teardown empties every table,
    including the reference data the other tests share."""

    def commits(item) -> bool:
        marker = item.get_closest_marker("django_db")
        return bool(marker and (marker.kwargs.get("transaction") or
                                (len(marker.args) > 0 and marker.args[0])))

    # Browser tests last of all: their module commits the demo and empties the tables after.
    items.sort(key=lambda item: (item.get_closest_marker("browser") is not None, commits(item)))


@pytest.fixture(autouse=True)
def local_webhook_receivers(settings):
    """The tests' webhook receivers listen on loopback, which production refuses
    (reports.notifications.outbound); the test of that refusal turns it back off."""
    settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS = True


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Photos a test stores go to its own folder, never to the installation's var/media."""
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Staff users are made in many tests; the real hasher takes about a second each."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def fresh_rate_limits(settings):
    """Rate-limit counters live in the cache; every test starts with none, and anonymous
    posting is not limited unless a test says so."""
    from django.core.cache import cache

    cache.clear()
    settings.ANONYMOUS_POSTS_PER_MINUTE = 100_000


@pytest.fixture
def committed_reference_data(transactional_db):
    """For tests that commit: the reference data, reloaded if an earlier committing test's
    teardown emptied the tables."""
    from reports.models import KleSubject

    if not KleSubject.objects.exists() or not Area.objects.exists():
        load_reference_data()
