"""How large a request body may be: one rule for the ASGI handler (which enforces it while
the body arrives, chunked bodies included) and the middleware (for other entry points)."""

from __future__ import annotations

from django.conf import settings

API_PREFIXES = ("/api/", "/open311/")


def body_limit(path: str, content_type: str) -> int:
    """Bytes allowed: multipart (photos) up to API_MAX_UPLOAD_BYTES; other bodies on the APIs
    up to API_MAX_BODY_BYTES; forms elsewhere (dashboard, admin) up to the upload limit."""
    if content_type.startswith("multipart/"):
        return settings.API_MAX_UPLOAD_BYTES
    if path.startswith(API_PREFIXES):
        return settings.API_MAX_BODY_BYTES
    return settings.API_MAX_UPLOAD_BYTES
