"""Request guards shared by all apps."""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpResponse


class ApiBodySizeLimitMiddleware:
    """Refuse API request bodies above API_MAX_BODY_BYTES with 413 before anything parses them.

    DRF reads the body from the stream, which bypasses Django's DATA_UPLOAD_MAX_MEMORY_SIZE
    check, so the limit is enforced here from Content-Length (the ASGI handler has already
    spooled the body, so the header is reliable).
    """

    prefixes = ("/api/", "/open311/")

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith(self.prefixes):
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            multipart = request.META.get("CONTENT_TYPE", "").startswith("multipart/")
            limit = settings.API_MAX_UPLOAD_BYTES if multipart else settings.API_MAX_BODY_BYTES
            if length > limit:
                body = {
                    "message": f"The request body is {length} bytes; the limit is {limit}.",
                    "errors": {},
                }
                return HttpResponse(
                    json.dumps(body), status=413, content_type="application/json"
                )
        return self.get_response(request)
