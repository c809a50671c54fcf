"""Idempotency-Key for POSTs (mobile apps retry on bad networks).

Per client scope (an API client, or the caller's address when anonymous):
- the same key with the same request replays the first response (status, body, Location);
- the same key with a different request → 422;
- the same key while the first request is still running → 409 (with Retry-After);
- keys are kept IDEMPOTENCY_KEEP_HOURS (at least 24 hours).

Exactly once through any crash: the key, the work and the recorded response are one
database transaction. The key is claimed with a transaction-scoped advisory lock, so the
claim lives exactly as long as the transaction doing the work: a crash of the web process
or of PostgreSQL anywhere before COMMIT rolls back the report and the claim together (a
retry then files it once), and after COMMIT both exist (a retry replays the answer). A
second request with the key while the first runs finds the lock taken and gets 409. There
is no claim row that a crash could leave behind, so nothing blocks retries for longer than
the request itself; a request whose process hangs or whose host vanishes mid-transaction is
ended by PostgreSQL after IDEMPOTENCY_LEASE_SECONDS of silence (idle_in_transaction_session_
timeout, set for this transaction only), which releases the claim. This is stronger and
simpler than claim rows with leases or Stripe-style recovery points, which need recovery
code for every crash point; the cost is that the work holds one transaction open, which
the services already do.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone

from geoservice.errors import InvalidInput, StillRunning, Unprocessable
from reports.models import IdempotencyRecord

MAX_KEY_LENGTH = 255


def request_fingerprint(request: HttpRequest) -> str:
    """A hash of what the request asks for. Multipart bodies are hashed by their fields and
    file contents, since a retried upload gets a new boundary."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path}\n".encode())
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


def run_idempotent(request: HttpRequest, scope: str, handler: Callable[[], HttpResponseBase],
                   *, key: str | None = None) -> HttpResponseBase:
    """Run `handler` at most once per (scope, Idempotency-Key); without the header, run it.
    `key` instead of the header: a server-rendered form's token.

    The handler runs inside this function's transaction (its own atomic blocks become
    savepoints), and its after-commit work (live events) runs once the response is
    recorded with it."""
    key = key if key is not None else request.headers.get("Idempotency-Key")
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise InvalidInput(f"Idempotency-Key must be 1 to {MAX_KEY_LENGTH} printable "
                           "characters.", {"Idempotency-Key": ["Not a usable key."]})
    fingerprint = request_fingerprint(request)
    _forget_old_keys()
    with transaction.atomic():
        if not _claim(scope, key):
            raise StillRunning(retry_after=1)
        existing = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if existing is not None:
            if existing.request_hash != fingerprint:
                raise Unprocessable("This Idempotency-Key was used for a different request.")
            return _replay(existing)
        response = handler()
        if not isinstance(response, HttpResponse):  # a stream has no body to record
            raise TypeError("An idempotent handler must answer with a whole response.")
        if hasattr(response, "render") and not getattr(response, "is_rendered", True):
            response.render()
        if response.status_code >= 500:
            transaction.set_rollback(True)  # nothing happened: the client may try again
            return response
        IdempotencyRecord.objects.create(
            scope=scope, key=key, request_hash=fingerprint, status_code=response.status_code,
            content_type=response.get("Content-Type", ""), body=response.content,
            location=response.get("Location", ""))
    return response


def _claim(scope: str, key: str) -> bool:
    """Take this key's transaction-scoped advisory lock, without waiting; False when another
    live transaction holds it. Raw SQL: the ORM has no advisory locks."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('idle_in_transaction_session_timeout', %s, true), "
            "pg_try_advisory_xact_lock(hashtextextended(%s, 0))",
            [f"{settings.IDEMPOTENCY_LEASE_SECONDS}s", f"idempotency {scope} {key}"])
        return bool(cursor.fetchone()[1])


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
