"""Apps and systems that use the APIs: clients, their keys, and the answers kept for
Idempotency-Keys."""

from __future__ import annotations

from django.contrib.gis.db import models
from django.utils import timezone

from reports.models.organisation import Municipality


class ApiClient(models.Model):
    """An app or system that uses the APIs with a key (Open311 api_key, or
    `Authorization: Api-Key …` on the REST API)."""

    name = models.CharField(max_length=200)
    municipality = models.ForeignKey(
        Municipality, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
        help_text="Only reports in this municipality; empty for all.",
    )
    active = models.BooleanField(default=True)
    rate_limit_per_minute = models.PositiveIntegerField(default=120)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ApiKey(models.Model):
    """A key of an API client. Only a SHA-256 hash of the secret part is stored."""

    client = models.ForeignKey(ApiClient, on_delete=models.CASCADE, related_name="keys")
    prefix = models.CharField(max_length=12, unique=True)
    secret_hash = models.CharField(max_length=64)
    label = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.client.name}: os2geo_{self.prefix}_…"


class IdempotencyRecord(models.Model):
    """The outcome of a POST made with an Idempotency-Key, per client scope: written in the
    same transaction as the POST's effect (reports.api.idempotency), so it exists exactly when
    the effect does."""

    scope = models.CharField(max_length=100)  # "client:<id>" or "anon:<address>"
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(default=b"")
    location = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]
