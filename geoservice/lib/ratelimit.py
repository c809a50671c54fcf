"""Rate limits and failure counters in Django's cache.

With the default local-memory cache the count is per process; configure a shared cache
(CACHE_URL=redis://…, see settings) when several processes serve the API.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def _incr(key: str, timeout: int) -> int:
    """Add one to a counter that lives `timeout` seconds from its first hit."""
    if cache.add(key, 1, timeout=timeout):
        return 1
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.add(key, 1, timeout=timeout)
        return 1


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
    return cache.get(f"failures:{bucket}") or 0
