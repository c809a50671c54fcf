"""Public reads on a read replica (DATABASE_REPLICA_URL), when one is configured.

A view marked `public_read` runs with its reads routed to the replica (ReplicaRouter for the
ORM, `read_alias()` for raw SQL); everything else, every write and every read inside a
write, stays on the primary. A replica streams from the primary, so a public read may lag it
by the replica's replay delay (usually well under a second): the public list, a report's
page, Open311 reads. Staff pages, every write and the live events read the primary.

If the replica fails while a request uses it, the request is answered again from the primary,
and the replica is left alone for REPLICA_RETRY_SECONDS: a replica that is down costs the
primary its share of reads, never an error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextvars import ContextVar
from functools import wraps
from typing import Any

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections

log = logging.getLogger(__name__)

REPLICA = "replica"
_reading = ContextVar("public_read", default=False)
_down_until = 0.0


def configured() -> bool:
    return REPLICA in settings.DATABASES


def read_alias() -> str:
    """The database the current request's public reads go to."""
    return REPLICA if _reading.get() else DEFAULT_DB_ALIAS


class ReplicaRouter:
    """Reads of a `public_read` view go to the replica; nothing is written or migrated there."""

    def db_for_read(self, model, **hints) -> str | None:
        return REPLICA if _reading.get() else None

    def db_for_write(self, model, **hints) -> str | None:
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # the same rows on both

    def allow_migrate(self, db: str, app_label: str, **hints) -> bool:
        return db != REPLICA


def public_read(view: Callable[..., Any]) -> Callable[..., Any]:
    """Run a read-only public view against the replica, falling back to the primary."""

    @wraps(view)
    def wrapper(*args, **kwargs):
        global _down_until
        if not configured() or time.monotonic() < _down_until:
            return view(*args, **kwargs)
        token = _reading.set(True)
        try:
            return view(*args, **kwargs)
        except (OperationalError, InterfaceError) as exc:
            _down_until = time.monotonic() + settings.REPLICA_RETRY_SECONDS
            log.warning("read replica failed (%s); reading from the primary for %s s",
                        type(exc).__name__, settings.REPLICA_RETRY_SECONDS)
            connections[REPLICA].close()
        finally:
            _reading.reset(token)
        return view(*args, **kwargs)

    return wrapper
