"""API keys on the REST API, rate limits, and Idempotency-Key."""

from __future__ import annotations

import json

import pytest

from reports.api.keys import api_key_issue, api_key_revoke, client_for_key
from reports.models import ApiClient, ApiKey, IdempotencyRecord, Report
from tests.reports.factories import BALLERUP_TOWN, COPENHAGEN_CITY

URL = "/api/v1/reports/"


def body(lon_lat=BALLERUP_TOWN, description="Hul i vejen"):
    return {"location": {"type": "Point", "coordinates": list(lon_lat)}, "category": "pothole",
            "description": description}


def post(api, data, **headers):
    return api.post(URL, json.dumps(data), content_type="application/json", **headers)


def test_keys_are_stored_hashed_and_can_be_revoked(world):
    client = ApiClient.objects.create(name="App")
    key = api_key_issue(client=client, label="prod")
    stored = ApiKey.objects.get()
    assert key.startswith(f"os2geo_{stored.prefix}_")
    assert key.split("_", 2)[2] not in stored.secret_hash
    assert client_for_key(key) == client
    assert client_for_key(key[:-1] + ("x" if key[-1] != "x" else "y")) is None
    api_key_revoke(key=stored)
    assert client_for_key(key) is None
    client.active = False
    client.save()
    assert client_for_key(api_key_issue(client=client)) is None


def test_rest_api_key_header(api, world):
    client = ApiClient.objects.create(name="App")
    key = api_key_issue(client=client)
    response = post(api, body(), HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201
    report = Report.objects.get()
    assert report.api_client == client and report.source == "api"
    assert post(api, body(), HTTP_AUTHORIZATION="Api-Key os2geo_x_y").status_code == 403
    assert post(api, body(), HTTP_AUTHORIZATION=f"Bearer {key}").status_code == 403
    anonymous = post(api, body())
    assert anonymous.status_code == 201
    assert Report.objects.get(pk=anonymous.json()["id"]).source == "web"


def test_key_limited_to_a_municipality(api, world):
    key = api_key_issue(client=ApiClient.objects.create(name="Ballerup only",
                                                        municipality=world["ballerup"]))
    assert post(api, body(), HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 201
    response = post(api, body(COPENHAGEN_CITY), HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 403
    assert Report.objects.count() == 1


def test_rate_limits(api, world, settings):
    settings.ANONYMOUS_POSTS_PER_MINUTE = 2
    assert [post(api, body()).status_code for _ in range(3)] == [201, 201, 429]
    limited = post(api, body())
    assert int(limited["Retry-After"]) > 0 and "Too many" in limited.json()["message"]
    assert api.get(URL).status_code == 200  # reading is not limited for anonymous callers
    client = ApiClient.objects.create(name="Slow app", rate_limit_per_minute=1)
    key = api_key_issue(client=client)
    assert api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 200
    assert api.get(URL, HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 429


def test_same_key_same_body_replays_the_first_response(api, world):
    first = post(api, body(), HTTP_IDEMPOTENCY_KEY="abc-1")
    second = post(api, body(), HTTP_IDEMPOTENCY_KEY="abc-1")
    assert first.status_code == second.status_code == 201
    assert first.content == second.content
    assert first["Location"] == second["Location"]
    assert second["Idempotent-Replayed"] == "true"
    assert Report.objects.count() == 1
    other_key = post(api, body(), HTTP_IDEMPOTENCY_KEY="abc-2")
    assert other_key.status_code == 201 and Report.objects.count() == 2


def test_same_key_different_body_is_422_and_errors_replay_too(api, world):
    assert post(api, body(), HTTP_IDEMPOTENCY_KEY="k").status_code == 201
    changed = post(api, body(description="Noget andet"), HTTP_IDEMPOTENCY_KEY="k")
    assert changed.status_code == 422
    bad = body(description="")
    assert post(api, bad, HTTP_IDEMPOTENCY_KEY="bad").status_code == 400
    assert post(api, bad, HTTP_IDEMPOTENCY_KEY="bad").status_code == 400
    assert Report.objects.count() == 1


def test_key_still_in_progress_is_409(api, world):
    """Another live transaction holds the key (a first request still running, in another
    process): the second request gets 409 and does nothing; once that transaction ends
    without a result (it crashed), the key works."""
    import psycopg
    from django.db import connection

    db = connection.settings_dict
    other = psycopg.connect(dbname=db["NAME"], user=db["USER"] or None,
                            host=db["HOST"] or None, port=db["PORT"] or None)
    try:
        other.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))",
                      ["idempotency anon:127.0.0.1 busy"])
        response = post(api, body(), HTTP_IDEMPOTENCY_KEY="busy")
        assert response.status_code == 409 and response["Retry-After"] == "1"
        assert Report.objects.count() == 0
        other.rollback()  # the first request's transaction ends without having filed it
        assert post(api, body(), HTTP_IDEMPOTENCY_KEY="busy").status_code == 201
        assert Report.objects.count() == 1
    finally:
        other.close()


def test_a_failed_request_leaves_no_key_behind(api, world, monkeypatch):
    """A request that dies mid-way (here: after its report row was written) rolls back its
    key with its report, so the retry files the report once."""
    from reports.services import filing

    def broken(*args, **kwargs):
        raise RuntimeError("the process died here")

    monkeypatch.setattr(filing, "announce", broken)
    api.raise_request_exception = False
    assert post(api, body(), HTTP_IDEMPOTENCY_KEY="crash").status_code == 500
    assert Report.objects.count() == 0 and not IdempotencyRecord.objects.exists()
    monkeypatch.undo()
    retried = post(api, body(), HTTP_IDEMPOTENCY_KEY="crash")
    assert retried.status_code == 201 and Report.objects.count() == 1
    replayed = post(api, body(), HTTP_IDEMPOTENCY_KEY="crash")
    assert replayed["Idempotent-Replayed"] == "true"
    assert replayed.content == retried.content and Report.objects.count() == 1


def test_keys_are_scoped_per_client(api, world):
    key = api_key_issue(client=ApiClient.objects.create(name="App"))
    assert post(api, body(), HTTP_IDEMPOTENCY_KEY="same").status_code == 201
    assert post(api, body(), HTTP_IDEMPOTENCY_KEY="same",
                HTTP_AUTHORIZATION=f"Api-Key {key}").status_code == 201
    assert Report.objects.count() == 2


@pytest.mark.parametrize("key", ["", "x" * 256])
def test_bad_idempotency_keys(api, world, key):
    response = post(api, body(), HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
