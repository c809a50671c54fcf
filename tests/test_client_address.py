"""Behind a proxy every client was one client (rate limits, login throttling and the
anonymous idempotency scope all used REMOTE_ADDR). With TRUSTED_PROXIES the client is the
right-most untrusted hop of X-Forwarded-For."""

from __future__ import annotations

import json

import pytest
from django.test import RequestFactory

from geoservice.lib import client as client_module
from geoservice.lib.client import client_address


@pytest.fixture
def proxies(settings):
    settings.TRUSTED_PROXIES = ["10.0.0.0/8", "192.0.2.1"]
    client_module._trusted.cache_clear()
    yield
    client_module._trusted.cache_clear()


def request(remote: str, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_trusted_proxies_the_header_is_ignored(settings):
    settings.TRUSTED_PROXIES = []
    client_module._trusted.cache_clear()
    assert client_address(request("198.51.100.7", "203.0.113.9")) == "198.51.100.7"


@pytest.mark.parametrize("remote,forwarded,expected", [
    ("10.1.2.3", "203.0.113.9", "203.0.113.9"),                   # one proxy
    ("10.1.2.3", "203.0.113.9, 192.0.2.1", "203.0.113.9"),        # two proxies
    ("10.1.2.3", "1.1.1.1, 203.0.113.9", "203.0.113.9"),          # client-written hop ignored
    ("198.51.100.7", "203.0.113.9", "198.51.100.7"),              # not from a proxy: ignored
    ("10.1.2.3", "not-an-address", "10.1.2.3"),                   # garbage: the proxy
    ("10.1.2.3", "", "10.1.2.3"),
    ("10.1.2.3", "2001:db8::1", "2001:db8::1"),
])
def test_the_right_most_untrusted_hop_is_the_client(proxies, remote, forwarded, expected):
    assert client_address(request(remote, forwarded)) == expected


@pytest.mark.django_db
def test_behind_a_proxy_one_busy_client_does_not_block_the_others(proxies, settings, client):
    settings.ANONYMOUS_POSTS_PER_MINUTE = 1
    body = json.dumps({"location": {"type": "Point", "coordinates": [12.36, 55.73]},
                       "category": "nothing-here", "description": "x"})

    def post(address):
        return client.post("/api/v1/reports/", body, content_type="application/json",
                           REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR=address).status_code

    assert post("203.0.113.1") != 429
    assert post("203.0.113.1") == 429   # that client is limited…
    assert post("203.0.113.2") != 429   # …not everyone behind the proxy
