"""Is each dependency reachable? For /api/v1/health, the worker's log and operators."""

from __future__ import annotations

from django.conf import settings
from django.db import connection, connections

from geoservice.lib import replica

# A health probe must answer quickly even when a dependency hangs rather than refuses.
PROBE_TIMEOUT_SECONDS = 2


def _database() -> dict:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT postgis_lib_version() IS NOT NULL")
            cursor.fetchone()
    except Exception as exc:  # any failure means unreachable, never a 500
        return {"ok": False, "error": _short(exc)}
    return {"ok": True}


def _replica() -> dict:
    """Reachable, and how far its replay is behind the last transaction it received."""
    try:
        with connections[replica.REPLICA].cursor() as cursor:
            cursor.execute("SELECT extract(epoch FROM now() - pg_last_xact_replay_timestamp())")
            lag = cursor.fetchone()[0]
    except Exception as exc:
        return {"ok": False, "error": _short(exc)}
    return {"ok": True, "lag_seconds": None if lag is None else round(float(lag), 3)}


def _redis(url: str) -> dict:
    import redis

    try:
        client = redis.Redis.from_url(url, socket_timeout=PROBE_TIMEOUT_SECONDS,
                                      socket_connect_timeout=PROBE_TIMEOUT_SECONDS)
        try:
            client.ping()
        finally:
            client.close()
    except Exception as exc:
        return {"ok": False, "error": _short(exc)}
    return {"ok": True}


def _short(exc: Exception) -> str:
    """The kind of failure, without addresses, paths or versions."""
    return type(exc).__name__


def checks() -> dict[str, dict]:
    """{"database": {"ok": …}, "replica": …, "channel_layer": …, "cache": …}: the optional
    ones only when configured (DATABASE_REPLICA_URL, REDIS_URL, CACHE_URL)."""
    result = {"database": _database()}
    if replica.configured():
        result["replica"] = _replica()
    if settings.REDIS_URL:
        result["channel_layer"] = _redis(settings.REDIS_URL)
    if settings.CACHE_URL:
        result["cache"] = _redis(settings.CACHE_URL)
    return result
