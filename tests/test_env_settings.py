import pytest
from django.core.exceptions import ImproperlyConfigured

from geoservice.lib.env import database_from_url, env_bool, env_int, env_list


def test_env_readers(monkeypatch):
    monkeypatch.setenv("X_BOOL", "yes")
    monkeypatch.setenv("X_INT", "42")
    monkeypatch.setenv("X_LIST", "a, b,,c")
    assert env_bool("X_BOOL") is True
    assert env_bool("X_MISSING", True) is True
    assert env_int("X_INT", 1) == 42
    assert env_list("X_LIST") == ["a", "b", "c"]


@pytest.mark.parametrize("reader,value", [(env_bool, "maybe"), (env_int, "4x")])
def test_bad_values_fail_loudly(monkeypatch, reader, value):
    monkeypatch.setenv("X_BAD", value)
    with pytest.raises(ImproperlyConfigured, match="X_BAD"):
        reader("X_BAD", 0) if reader is env_int else reader("X_BAD")


def test_database_url_with_socket_folder_and_with_host():
    socket = database_from_url("postgres://postgres@/os2geo?host=/tmp/run%20dir")
    assert (socket["NAME"], socket["USER"], socket["HOST"]) == ("os2geo", "postgres",
                                                                "/tmp/run dir")
    tcp = database_from_url("postgresql://u:p%40ss@db.example:6543/geo?sslmode=require")
    assert (tcp["HOST"], tcp["PORT"], tcp["PASSWORD"]) == ("db.example", "6543", "p@ss")
    assert tcp["OPTIONS"]["sslmode"] == "require"
    assert tcp["OPTIONS"]["pool"]["max_size"] == 10 and tcp["CONN_MAX_AGE"] == 0
    assert tcp["ENGINE"] == "django.contrib.gis.db.backends.postgis"


def test_pool_can_be_turned_off(monkeypatch):
    monkeypatch.setenv("DATABASE_POOL_MAX_SIZE", "0")
    monkeypatch.setenv("DATABASE_CONN_MAX_AGE", "60")
    config = database_from_url("postgres://u@h/db")
    assert "pool" not in config["OPTIONS"] and config["CONN_MAX_AGE"] == 60


@pytest.mark.parametrize("url", ["mysql://x/y", "postgres://host:5432/"])
def test_bad_database_urls(url):
    with pytest.raises(ImproperlyConfigured):
        database_from_url(url)


def test_cache_url_selects_a_shared_redis_cache(monkeypatch):
    import importlib

    import geoservice.settings as settings_module

    monkeypatch.setenv("CACHE_URL", "redis://127.0.0.1:6379/1")
    try:
        reloaded = importlib.reload(settings_module)
        assert reloaded.CACHES["default"]["BACKEND"].endswith("RedisCache")
        assert reloaded.CACHES["default"]["LOCATION"] == "redis://127.0.0.1:6379/1"
    finally:
        monkeypatch.delenv("CACHE_URL")
        importlib.reload(settings_module)


def test_service_connections_turn_jit_off_unless_told_otherwise(monkeypatch):
    assert database_from_url("postgres://u@h/db")["OPTIONS"]["options"] == "-c jit=off"
    custom = database_from_url("postgres://u@h/db?options=-c%20work_mem%3D64MB")
    assert custom["OPTIONS"]["options"] == "-c work_mem=64MB"
    monkeypatch.setenv("DATABASE_OPTIONS", "")
    assert "options" not in database_from_url("postgres://u@h/db")["OPTIONS"]


@pytest.mark.django_db
def test_the_test_database_connection_runs_without_jit():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting('jit')")
        assert cursor.fetchone()[0] == "off"
