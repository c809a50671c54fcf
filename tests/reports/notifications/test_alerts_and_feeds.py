"""Area alerts (double opt-in, immediate or daily digest) and Atom feeds."""

from __future__ import annotations

import datetime as dt

import feedparser
import pytest
from django.core import mail
from django.utils import timezone

from reports import services
from reports.models import AreaAlert
from reports.notifications.worker import run_once
from tests.maps.factories import district
from tests.reports.factories import (
    BALLERUP_TOWN,
    MAALOEV,
    file_report,
)
from tests.reports.notifications.helpers import link_in
from tests.reports.worlds import roads_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return roads_world()["municipality"]


def subscribe(client, **data):
    response = client.post("/api/v1/alerts/", {"email": "nabo@example.dk", **data},
                           content_type="application/json")
    assert response.status_code == 202, response.content
    run_once()
    confirmation = mail.outbox.pop()
    assert client.post(link_in(confirmation.body, "/alerts/confirm/")).status_code == 200
    return AreaAlert.objects.latest("id")


def test_immediate_alert_for_an_area_after_double_opt_in(world, client):
    maaloev = district("0151", "2760")
    response = client.post("/api/v1/alerts/", {"email": "nabo@example.dk", "area": maaloev.pk},
                           content_type="application/json")
    assert response.status_code == 202
    file_report(lon_lat=MAALOEV)                       # before confirming: no alert
    run_once()
    assert [m.subject for m in mail.outbox if m.to == ["nabo@example.dk"]] == [
        "Bekræft din nabo-advisering"]
    confirmation = next(m for m in mail.outbox if m.to == ["nabo@example.dk"])
    link = link_in(confirmation.body, "/alerts/confirm/")
    assert client.get(link).status_code == 200  # the page with the button
    assert AreaAlert.objects.get().confirmed_at is None
    assert client.post(link).status_code == 200
    mail.outbox.clear()
    inside = file_report(lon_lat=MAALOEV, description="Hul i Måløv")
    file_report(lon_lat=BALLERUP_TOWN)                 # outside Måløv
    run_once()
    (alert_mail,) = [m for m in mail.outbox if m.to == ["nabo@example.dk"]]
    assert f"#{inside.pk}" in alert_mail.body and "Hul i Måløv" in alert_mail.body
    unsubscribe = link_in(alert_mail.body, "/alerts/unsubscribe/")
    assert alert_mail.extra_headers["List-Unsubscribe"] == f"<http://127.0.0.1:8000{unsubscribe}>"
    assert client.post(unsubscribe).status_code == 200
    assert not AreaAlert.objects.exists()
    assert client.get("/alerts/confirm/tampered").status_code == 400


def test_radius_alert_and_daily_digest(world, client):
    subscribe(client, near={"type": "Point", "coordinates": list(BALLERUP_TOWN)}, radius=300,
              frequency="daily")
    near = file_report(lon_lat=(BALLERUP_TOWN[0] + 0.001, BALLERUP_TOWN[1]))  # ~63 m
    file_report(lon_lat=MAALOEV)                                              # ~3 km
    run_once()
    assert not [m for m in mail.outbox if m.to == ["nabo@example.dk"]]  # daily: not yet
    assert services.alerts_send_digests() == 0                           # not a day old
    AreaAlert.objects.update(confirmed_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    assert services.alerts_send_digests() == 1
    assert services.alerts_send_digests() == 0                           # once a day
    run_once()
    (digest,) = [m for m in mail.outbox if m.to == ["nabo@example.dk"]]
    assert f"#{near.pk}" in digest.body and "1 nye henvendelser" in digest.subject


@pytest.mark.parametrize("data", [{}, {"area": 1, "near": {"type": "Point",
                                                          "coordinates": [12, 55]}},
                                  {"area": 999999}, {"near": {"type": "Point",
                                                              "coordinates": [12, 55]},
                                                     "radius": 10}])
def test_bad_alert_requests(world, client, data):
    response = client.post("/api/v1/alerts/", {"email": "a@b.dk", **data},
                           content_type="application/json")
    assert response.status_code == 400


def test_atom_feeds_parse_with_a_real_feed_parser(world, client):
    maaloev = district("0151", "2760")
    inside = file_report(lon_lat=MAALOEV, description="Væltet skilt 010190-1234")
    file_report(lon_lat=BALLERUP_TOWN)
    feed = feedparser.parse(client.get(f"/feeds/area/{maaloev.pk}/").content)
    assert not feed.bozo, feed.bozo_exception
    assert feed.version == "atom10" and "Måløv" in feed.feed.title
    (entry,) = feed.entries
    assert entry.link.endswith(f"/reports/{inside.pk}")
    assert "******-****" in entry.summary and "010190" not in entry.summary
    near = feedparser.parse(client.get(
        f"/feeds/near/?lon={BALLERUP_TOWN[0]}&lat={BALLERUP_TOWN[1]}&radius=200").content)
    assert not near.bozo and len(near.entries) == 1
    assert client.get("/feeds/near/?lon=x&lat=55").status_code == 404
    assert client.get("/feeds/area/999999/").status_code == 404
