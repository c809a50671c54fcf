"""Rate limits and failure counters in Django's cache.

With the default local-memory cache the count is per process; configure a shared cache
(CACHE_URL=redis://…, see settings) when several processes serve the API.
"""

from __future__ import annotations

import logging
import time

from django.core.cache import cache

log = logging.getLogger(__name__)


def _incr(key: str, timeout: int) -> int:
    """Add one to a counter that lives `timeout` seconds from its first hit; 0 when the
    cache cannot be reached (a shared Redis restarting): limits then fail open, since
    refusing every citizen's report is worse than a minute without limits."""
    try:
        if cache.add(key, 1, timeout=timeout):
            return 1
        try:
            return cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=timeout)
            return 1
    except Exception as exc:  # the cache backend's connection errors
        log.warning("rate-limit cache unavailable (%s); not counting", type(exc).__name__)
        return 0


def allow(bucket: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
    """Count one hit in `bucket` (fixed windows); (allowed, seconds until the window
    resets)."""
    now = int(time.time())
    count = _incr(f"ratelimit:{bucket}:{now // window_seconds}", window_seconds + 1)
    return count <= limit, window_seconds - now % window_seconds


def count_failure(bucket: str, lifetime_seconds: int) -> int:
    """Count one failure; the count is forgotten `lifetime_seconds` after the first."""
    return _incr(f"failures:{bucket}", lifetime_seconds)


def failures(bucket: str) -> int:
    """Failures counted in `bucket` and not yet forgotten."""
    try:
        return cache.get(f"failures:{bucket}") or 0
    except Exception as exc:
        log.warning("rate-limit cache unavailable (%s); not counting", type(exc).__name__)
        return 0
