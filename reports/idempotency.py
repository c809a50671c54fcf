"""Idempotency-Key for POSTs (mobile apps retry on bad networks).

Per client scope (an API client, or the caller's address when anonymous):
- the same key with the same request replays the first response (status, body, Location);
- the same key with a different request → 422;
- the same key while the first request is still running → 409 (with Retry-After);
- keys are kept IDEMPOTENCY_KEEP_HOURS (at least 24 hours).
The key is claimed by inserting a row (committed at once) before the work starts, so two
concurrent requests cannot both do the work: PostgreSQL's unique index decides.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from reports.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


class IdempotencyProblem(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def request_fingerprint(request: HttpRequest) -> str:
    """A hash of what the request asks for. Multipart bodies are hashed by their fields and
    file contents, since a retried upload gets a new boundary."""
    digest = hashlib.sha256()
    digest.update(request.method.encode() + b" " + request.path.encode() + b"\n")
    content_type = request.META.get("CONTENT_TYPE", "")
    if content_type.startswith("multipart/form-data"):
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"{name}={value}\n".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                file_digest = hashlib.sha256()
                for chunk in upload.chunks():
                    file_digest.update(chunk)
                upload.seek(0)
                digest.update(f"{name}:{file_digest.hexdigest()}\n".encode())
    else:
        digest.update(content_type.split(";")[0].encode() + b"\n" + request.body)
    return digest.hexdigest()


def run_idempotent(request: HttpRequest, scope: str, handler: Callable[[], HttpResponse]
                   ) -> HttpResponse:
    """Run `handler` at most once per (scope, Idempotency-Key); without the header, run it."""
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise IdempotencyProblem(400, f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} "
                                      "printable characters.")
    fingerprint = request_fingerprint(request)
    _forget_old_keys()
    try:
        with transaction.atomic():
            record = IdempotencyRecord.objects.create(scope=scope, key=key,
                                                      request_hash=fingerprint)
    except IntegrityError:
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is None:  # finished with a server error and was released meanwhile
            raise IdempotencyProblem(409, "A request with this Idempotency-Key is being "
                                          "retried; try again.") from None
        if existing.request_hash != fingerprint:
            raise IdempotencyProblem(
                422, "This Idempotency-Key was used for a different request.") from None
        if not existing.completed:
            raise IdempotencyProblem(
                409, "A request with this Idempotency-Key is still being processed.") from None
        return _replay(existing)
    try:
        response = handler()
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
    except BaseException:
        record.delete()
        raise
    if response.status_code >= 500:
        record.delete()  # let the client try again
        return response
    record.completed = True
    record.status_code = response.status_code
    record.content_type = response.get("Content-Type", "")
    record.body = response.content
    record.location = response.get("Location", "")
    record.save(update_fields=["completed", "status_code", "content_type", "body", "location"])
    return response


def _replay(record: IdempotencyRecord) -> HttpResponse:
    response = HttpResponse(bytes(record.body), status=record.status_code,
                            content_type=record.content_type or None)
    if record.location:
        response["Location"] = record.location
    response["Idempotent-Replayed"] = "true"
    return response


def _forget_old_keys() -> None:
    if random.random() < 0.02:  # now and then is enough: expired keys only cost space
        cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEEP_HOURS)
        IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
