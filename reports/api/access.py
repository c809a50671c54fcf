"""Who is calling the APIs: API keys, rate limits, the idempotency scope, photo tokens."""

from __future__ import annotations

from django.conf import settings
from django.core import signing
from django.http import HttpRequest

from geoservice.errors import Forbidden, RateLimited
from geoservice.lib.client import client_address
from geoservice.lib.ratelimit import allow
from reports.api.keys import client_for_key
from reports.models import ApiClient

PHOTO_TOKEN_SALT = "reports.photo-upload"
PHOTO_TOKEN_MAX_AGE = 3600


class InvalidApiKey(Forbidden):
    default_message = "The API key is missing, unknown or revoked."


def api_client_from_header(request: HttpRequest) -> ApiClient | None:
    """The client of an `Authorization: Api-Key …` header; None without the header."""
    header = request.headers.get("Authorization", "")
    if not header:
        return None
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "api-key":
        raise InvalidApiKey("Use the header `Authorization: Api-Key <key>`.")
    client = client_for_key(key)
    if client is None:
        raise InvalidApiKey()
    return client


def check_rate(request: HttpRequest, client: ApiClient | None, *, posting: bool) -> None:
    """API clients: their own limit on every request. Anonymous callers: a limit on posts."""
    if client is not None:
        ok, retry = allow(f"client:{client.pk}", client.rate_limit_per_minute)
    elif posting:
        ok, retry = allow(f"anon-post:{client_address(request)}",
                          settings.ANONYMOUS_POSTS_PER_MINUTE)
    else:
        return
    if not ok:
        raise RateLimited(f"Too many requests; try again in {retry} s.", retry_after=retry)


def idempotency_scope(request: HttpRequest, client: ApiClient | None) -> str:
    return f"client:{client.pk}" if client else f"anon:{client_address(request)}"


def photo_token(report_id: int) -> str:
    return signing.TimestampSigner(salt=PHOTO_TOKEN_SALT).sign(str(report_id))


def photo_token_valid(token: str, report_id: int) -> bool:
    try:
        value = signing.TimestampSigner(salt=PHOTO_TOKEN_SALT).unsign(
            token, max_age=PHOTO_TOKEN_MAX_AGE)
    except signing.BadSignature:
        return False
    return value == str(report_id)


def may_add_photo(report, client: ApiClient | None, token: str) -> bool:
    """Photos after creation: with the report's own upload token, or with an API key whose
    municipality scope covers the report."""
    if token:
        return photo_token_valid(token, report.id)
    return client is not None and client.municipality_id in (None, report.municipality_id)
