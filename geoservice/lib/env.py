"""Typed readers for settings taken from environment variables.

Each reader fails loudly (ImproperlyConfigured) on a value it cannot parse, so a typo in a
deployment's environment stops the process at start instead of running with a surprise.
"""

from __future__ import annotations

import os
from urllib.parse import parse_qs, unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no)")


def env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None


def env_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def database_from_url(url: str) -> dict:
    """Turn `postgres://user:pass@host:port/name?host=/socket/dir` into a DATABASES entry.

    Only PostgreSQL is accepted: the service needs PostGIS. A `host` query parameter (a Unix
    socket directory) wins over the network location, as in libpq.
    """
    parts = urlsplit(url)
    if parts.scheme not in {"postgres", "postgresql", "postgis"}:
        raise ImproperlyConfigured(
            f"DATABASE_URL must start with postgres:// or postgresql:// (got {parts.scheme!r})"
        )
    name = unquote(parts.path.lstrip("/"))
    if not name:
        raise ImproperlyConfigured("DATABASE_URL names no database (…/DBNAME)")
    query: dict = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    host = query.pop("host", None) or unquote(parts.hostname or "")
    # Session settings for every connection of the service (libpq's `options`). JIT is off:
    # PostGIS's GeoJSON and MVT functions carry cost estimates that make PostgreSQL compile
    # each tile and bbox query, which took longer than the query itself. A connection pooler
    # that refuses startup options (PgBouncer without ignore_startup_parameters) needs
    # DATABASE_OPTIONS= (empty) and the setting on the server instead.
    options = env_str("DATABASE_OPTIONS", "-c jit=off").strip()
    if options and "options" not in query:
        query["options"] = options
    pool_size = env_int("DATABASE_POOL_MAX_SIZE", 10)
    if pool_size > 0:
        # A pool, not CONN_MAX_AGE: under ASGI every request has its own context, so Django's
        # persistent connections are not reused, and a new PostGIS backend costs ~30 ms.
        # Checked on checkout (CONN_HEALTH_CHECKS below: one empty round trip), so that
        # after a database restart no request gets a dead connection. While the database
        # is down a request waits `timeout` seconds for a connection, then gets 503; the
        # pool gives up a reconnection attempt after `reconnect_timeout` seconds, so that
        # the next request after the database is back connects at once instead of waiting
        # out the pool's doubling backoff (a minute and more after a long outage).
        query["pool"] = {"min_size": min(2, pool_size), "max_size": pool_size,
                         "timeout": env_int("DATABASE_POOL_TIMEOUT", 3),
                         "reconnect_timeout": env_int("DATABASE_POOL_RECONNECT_SECONDS", 5)}
    return {
        "ENGINE": "django.contrib.gis.db.backends.postgis",
        "NAME": name,
        "USER": unquote(parts.username or ""),
        "PASSWORD": unquote(parts.password or ""),
        "HOST": host,
        "PORT": str(parts.port or ""),
        "OPTIONS": query,
        "CONN_MAX_AGE": 0 if pool_size > 0 else env_int("DATABASE_CONN_MAX_AGE", 0),
        "CONN_HEALTH_CHECKS": True,
    }
