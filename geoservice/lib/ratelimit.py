"""Fixed-window rate limits in Django's cache.

With the default local-memory cache the count is per process; configure a shared cache
(CACHE_URL=redis://…, see settings) when several processes serve the API.
"""

from __future__ import annotations

import time

from django.core.cache import cache


def allow(bucket: str, limit: int, window_seconds: int = 60) -> tuple[bool, int]:
    """Count one hit in `bucket`; (allowed, seconds until the window resets)."""
    now = int(time.time())
    window = now // window_seconds
    key = f"ratelimit:{bucket}:{window}"
    if cache.add(key, 1, timeout=window_seconds + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.add(key, 1, timeout=window_seconds + 1)
            count = 1
    return count <= limit, window_seconds - now % window_seconds
