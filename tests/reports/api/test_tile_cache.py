"""The tile cache (reports.tiles): a built tile is served again until a change to a report it
can draw gives it a new version; the cache is shared by every process through Redis, and an
unreachable cache costs speed, never an answer."""

from __future__ import annotations

import urllib.request

import mapbox_vector_tile
import pytest
from django.core.cache import cache

from maps.mvt import BUFFER, EXTENT
from maps.tiles import lonlat_to_tile, tile_bounds
from reports import services, tiles
from reports.models import Report
from tests.reports.api.test_tiles import decode, file, tile_path
from tests.reports.factories import (
    BALLERUP_TOWN,
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)
from tests.servers import daphne_server, redis_server, run_python


@pytest.fixture
def tile_cache(settings):
    settings.TILE_CACHE_SECONDS = 300
    cache.clear()
    yield
    cache.clear()


def ids(response) -> list[int]:
    layers = decode(response)
    return sorted(f["id"] for f in layers.get("reports", {}).get("features", []))


def cluster_count(response) -> int:
    return sum(c["properties"]["count"]
               for c in decode(response).get("clusters", {}).get("features", []))


def hide_behind_the_services_back(report: Report) -> None:
    """A change no service announces: what a tile shows afterwards is the cache's."""
    Report.objects.filter(pk=report.pk).update(hidden=True)


@pytest.mark.django_db
@pytest.mark.parametrize("zoom", [16, 12, 5])  # deeper than the version zoom, at it, above it
def test_a_cached_tile_is_served_until_a_change_in_it_commits(client, world, tile_cache, zoom,
                                                              django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        first = file(world)
    path = tile_path(*BALLERUP_TOWN, zoom)
    count = cluster_count if zoom <= 11 else (lambda response: len(ids(response)))
    assert count(client.get(path)) == 1
    hide_behind_the_services_back(first)
    assert count(client.get(path)) == 1  # from the cache: nothing announced a change

    with django_capture_on_commit_callbacks(execute=True):
        later = [file(world, lon=BALLERUP_TOWN[0] + 0.00001 * i) for i in (1, 2)]
    assert count(client.get(path)) == 2  # rebuilt: the hidden one gone, the new ones there
    if zoom > 11:
        assert ids(client.get(path)) == sorted(report.pk for report in later)


@pytest.mark.django_db
def test_a_change_not_yet_committed_leaves_the_cached_tile_alone(client, world, tile_cache):
    path = tile_path(*BALLERUP_TOWN, 16)
    assert ids(client.get(path)) == []
    report = file(world)  # inside the test's transaction: filed, but nothing committed
    hide_behind_the_services_back(report)
    assert ids(client.get(path)) == []


@pytest.mark.django_db
def test_a_report_near_an_edge_renews_the_neighbour_whose_buffer_draws_it(
        client, world, tile_cache, settings, django_capture_on_commit_callbacks):
    # At the zoom whose versions deeper tiles share: neighbours there share no version.
    z = settings.LIVE_TILE_ZOOM
    x, y = lonlat_to_tile(*BALLERUP_TOWN, z)
    west, south, east, north = tile_bounds(x, y, z)
    # Inside tile x, a third of the buffer from its eastern edge: tile x + 1 draws it too.
    lon = east - (east - west) * BUFFER / EXTENT / 3
    lat = BALLERUP_TOWN[1]
    assert lonlat_to_tile(lon, lat, z) == (x, y)
    neighbour = f"/api/v1/tiles/reports/{z}/{x + 1}/{y}.mvt"
    assert ids(client.get(neighbour)) == []
    with django_capture_on_commit_callbacks(execute=True):
        report = file(world, lon=lon, lat=lat)
    assert ids(client.get(neighbour)) == [report.pk]


@pytest.mark.django_db
def test_filters_are_cached_apart(client, world, tile_cache, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        pothole = file(world)
        litter = file(world, category="litter")
    path = tile_path(*BALLERUP_TOWN, 15)
    assert ids(client.get(path)) == sorted([pothole.pk, litter.pk])
    assert ids(client.get(path + "?category=litter")) == [litter.pk]
    assert ids(client.get(path + "?category=pothole")) == [pothole.pk]


@pytest.mark.django_db
def test_a_category_change_renews_every_tile(client, world, tile_cache,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        report = file(world)
    path = tile_path(*BALLERUP_TOWN, 16)
    assert decode(client.get(path))["reports"]["features"][0]["properties"]["category"] == \
        "pothole"
    with django_capture_on_commit_callbacks(execute=True):
        report.category.code = "pothole-road"
        report.category.save(update_fields=["code"])
        tiles.invalidate_all()  # what the category admin does on save
    assert decode(client.get(path))["reports"]["features"][0]["properties"]["category"] == \
        "pothole-road"


@pytest.mark.django_db
def test_an_unreachable_cache_still_serves_every_tile_and_lets_changes_commit(
        client, world, settings, django_capture_on_commit_callbacks):
    settings.TILE_CACHE_SECONDS = 300
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:9/0",  # the discard port: nothing listens
        "OPTIONS": {"socket_timeout": 0.2, "socket_connect_timeout": 0.2}}}
    with django_capture_on_commit_callbacks(execute=True):
        report = file(world)
    assert ids(client.get(tile_path(*BALLERUP_TOWN, 16))) == [report.pk]
    with django_capture_on_commit_callbacks(execute=True):
        services.report_transition(report_id=report.pk, to_status="acknowledged")
    features = decode(client.get(tile_path(*BALLERUP_TOWN, 16)))["reports"]["features"]
    assert features[0]["properties"]["status"] == "acknowledged"


FILE_REPORT = """
from django.contrib.gis.geos import Point
from reports import services
print(services.report_create(location=Point({lon}, {lat}, srid=4326), category_code="pothole",
                             description="Fra en anden proces").pk)
"""


def fetch_ids(port: int, path: str) -> list[int]:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        body = response.read()
    layers = mapbox_vector_tile.decode(body) if body else {}
    return sorted(f["id"] for f in layers.get("reports", {}).get("features", []))


@pytest.mark.django_db(transaction=True)
def test_a_change_in_another_process_renews_the_tiles_a_web_process_cached(
        tmp_path, committed_reference_data):
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05",
                       department=DepartmentFactory(municipality=municipality))
    path = tile_path(*BALLERUP_TOWN, 16)
    with redis_server() as redis_url:
        shared = {"REDIS_URL": redis_url, "CACHE_URL": redis_url.rsplit("/", 1)[0] + "/1"}
        with daphne_server(log_path=tmp_path / "daphne.log", **shared) as port:
            assert fetch_ids(port, path) == []
            first = int(run_python(FILE_REPORT.format(lon=BALLERUP_TOWN[0],
                                                      lat=BALLERUP_TOWN[1]), **shared))
            assert fetch_ids(port, path) == [first]
            Report.objects.filter(pk=first).update(hidden=True)
            assert fetch_ids(port, path) == [first]  # the web process's tile is cached
            second = int(run_python(FILE_REPORT.format(lon=BALLERUP_TOWN[0] + 0.00001,
                                                       lat=BALLERUP_TOWN[1]), **shared))
            assert fetch_ids(port, path) == [second]
