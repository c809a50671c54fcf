"""API keys: `os2geo_<prefix>_<secret>`. Only SHA-256 of the secret is stored; the prefix
finds the row, the hash comparison is constant-time."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets

from django.utils import timezone

from reports.models import ApiClient, ApiKey

KEY_PREFIX = "os2geo"
# last_used_at is written at most this often per key, not on every request.
TOUCH_INTERVAL = dt.timedelta(minutes=5)


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def api_key_issue(*, client: ApiClient, label: str = "") -> str:
    """Create a key for `client` and return it in full: the only time it can be seen."""
    prefix = secrets.token_hex(5)
    secret = secrets.token_urlsafe(32)
    ApiKey.objects.create(client=client, prefix=prefix, secret_hash=_hash(secret), label=label)
    return f"{KEY_PREFIX}_{prefix}_{secret}"


def api_key_revoke(*, key: ApiKey) -> None:
    if key.revoked_at is None:
        key.revoked_at = timezone.now()
        key.save(update_fields=["revoked_at"])


def client_for_key(raw: str | None) -> ApiClient | None:
    """The active client a key belongs to, or None for a missing, unknown or revoked key."""
    if not raw:
        return None
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX:
        return None
    key = (ApiKey.objects.select_related("client", "client__municipality")
           .filter(prefix=parts[1], revoked_at__isnull=True, client__active=True).first())
    if key is None or not hmac.compare_digest(key.secret_hash, _hash(parts[2])):
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > TOUCH_INTERVAL:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    return key.client
