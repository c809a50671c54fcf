"""The map draws boundaries and reports whatever the base layer does: blocked, hanging (a
request that never answers, as a closed network or a stuck proxy gives), slow, or a style
URL that never arrives. The citizen's report flow works in each case."""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from PIL import Image

from tests.frontend.conftest import (
    DEMO_PASSWORD,
    screenshot,
    wait_for_own_layers,
    wait_for_rendered_report,
)
from tests.servers import daphne_server, free_port, run_python

pytestmark = pytest.mark.browser

BALLERUP_TOWN = (12.3633, 55.7300)
OSM_TILES = "https://tile.openstreetmap.org/**"
SLOW_TILE_SECONDS = 4


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (170, 211, 223)).save(buffer, "PNG")
    return buffer.getvalue()


class BasemapServer:
    """A base-layer server on loopback whose behaviour a test chooses: `slow` tiles (answered
    after SLOW_TILE_SECONDS), or a style that `hang`s (never answered)."""

    def __init__(self) -> None:
        self.mode = "slow"
        self.tile_requests = 0
        self.released = threading.Event()
        self.port = free_port()
        png, outer = _png(), self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:
                pass

            def do_GET(self) -> None:
                if self.path.startswith("/style.json"):
                    if outer.mode == "hang":
                        outer.released.wait(120)
                        return
                    body = json.dumps(outer.style()).encode()
                    content_type = "application/json"
                else:
                    outer.tile_requests += 1
                    outer.released.wait(SLOW_TILE_SECONDS)
                    body, content_type = png, "image/png"
                self.send_response(200)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Access-Control-Allow-Origin", "*")
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def style_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/style.json"

    def style(self) -> dict:
        return {"version": 8, "sources": {"slow-basemap": {
            "type": "raster", "tileSize": 256,
            "tiles": [f"http://127.0.0.1:{self.port}/tiles/{{z}}/{{x}}/{{y}}.png"]}},
            "layers": [{"id": "slow-basemap", "type": "raster", "source": "slow-basemap"}]}

    def close(self) -> None:
        self.released.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def basemap_server() -> Iterator[BasemapServer]:
    server = BasemapServer()
    yield server
    server.close()


@pytest.fixture(scope="module")
def styled_site(live_site, basemap_server, tmp_path_factory):
    """A second web process on the same committed demo, whose base layer is a style URL on
    the test's own server."""
    log = tmp_path_factory.mktemp("daphne-styled") / "daphne.log"
    with daphne_server(log_path=log, REDIS_URL=live_site["redis_url"],
                       BASEMAP_STYLE=basemap_server.style_url) as port:
        yield {**live_site, "url": f"http://127.0.0.1:{port}"}


FILE_REPORT = """
from django.contrib.gis.geos import Point
from reports import services
report = services.report_create(location=Point({lon}, {lat}, srid=4326),
                                category_code="pothole", description={description!r})
print(report.pk)
"""


@pytest.fixture(scope="module")
def ballerup_report(live_site) -> int:
    return int(run_python(FILE_REPORT.format(
        lon=BALLERUP_TOWN[0], lat=BALLERUP_TOWN[1], description="Hul foran stationen"),
        REDIS_URL=live_site["redis_url"]))


def open_map(page, site) -> float:
    """Open the map at the report; seconds until our own layers were drawn."""
    started = time.monotonic()
    page.goto(f"{site['url']}/?lon={BALLERUP_TOWN[0]}&lat={BALLERUP_TOWN[1]}&zoom=16")
    wait_for_own_layers(page)
    return time.monotonic() - started


def categories_are_offered(page) -> None:
    """The report flow gets as far as the categories at the map's centre."""
    page.click("#start-report")
    page.click("#pin-centre")
    page.wait_for_selector("#place-next:not([disabled])")
    page.click("#place-next")
    page.locator("#category-choices input[type=radio]").first.wait_for()


def wait_for_boundaries(page) -> None:
    """Zoomed out far enough to see Ballerup's boundary, it is drawn; then back."""
    page.evaluate("() => window.os2geoMap.jumpTo({zoom: 11})")
    page.wait_for_function("() => window.os2geoMap.queryRenderedFeatures("
                           "{layers: ['municipality-lines']}).length > 0")
    page.evaluate("() => window.os2geoMap.jumpTo({zoom: 16})")


def test_reports_and_boundaries_draw_when_the_basemap_is_blocked(phone, live_site,
                                                                ballerup_report):
    refused = []
    phone.route(OSM_TILES, lambda route: (refused.append(route.request.url),
                                          route.abort("connectionrefused")))
    open_map(phone, live_site)
    wait_for_rendered_report(phone, ballerup_report)
    assert refused, "the page never asked for the base layer's tiles"
    wait_for_boundaries(phone)
    categories_are_offered(phone)
    assert phone.errors == []


def test_reports_draw_and_the_flow_works_while_basemap_tiles_hang(phone, live_site,
                                                                 ballerup_report):
    pending = []  # requests that are never answered while the test runs
    phone.route(OSM_TILES, lambda route: pending.append(route))
    open_map(phone, live_site)
    wait_for_rendered_report(phone, ballerup_report)
    wait_for_boundaries(phone)
    assert pending, "the base layer's tiles were not asked for"
    assert not phone.evaluate("() => window.os2geoMap.loaded()")  # the basemap still hangs
    screenshot(phone, "map-basemap-hanging")
    categories_are_offered(phone)
    assert phone.errors == []


def test_reports_draw_before_slow_basemap_tiles_arrive(phone, styled_site, basemap_server,
                                                      ballerup_report):
    basemap_server.mode = "slow"
    before = basemap_server.tile_requests
    seconds = open_map(phone, styled_site)
    wait_for_rendered_report(phone, ballerup_report)
    # The style arrived and went under our layers; its tiles are still on their way.
    phone.wait_for_function("() => !!window.os2geoMap.getLayer('slow-basemap')")
    layers = phone.evaluate("() => window.os2geoMap.getStyle().layers.map((l) => l.id)")
    assert layers.index("slow-basemap") < layers.index("reports")
    assert basemap_server.tile_requests > before
    assert seconds < SLOW_TILE_SECONDS, f"our layers waited {seconds:.1f} s for the basemap"
    # Once the slow tiles came, the map is complete and the reports are still drawn.
    phone.wait_for_function("() => window.os2geoMap.loaded()", timeout=90_000)
    wait_for_rendered_report(phone, ballerup_report)
    assert phone.errors == []


def test_reports_draw_when_the_basemap_style_never_arrives(phone, styled_site, basemap_server,
                                                          ballerup_report):
    basemap_server.mode = "hang"
    try:
        open_map(phone, styled_site)
        wait_for_rendered_report(phone, ballerup_report)
        categories_are_offered(phone)
        # The page gives up on the style after its timeout and says so on the body.
        phone.wait_for_function("() => document.body.dataset.basemap === 'unavailable'",
                                timeout=15_000)
        wait_for_rendered_report(phone, ballerup_report)
    finally:
        basemap_server.mode = "slow"
    assert phone.errors == []


def test_the_staff_queue_map_draws_its_reports_while_basemap_tiles_hang(browser, live_site,
                                                                       ballerup_report):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = context.new_page()
    pending = []
    page.route(OSM_TILES, lambda route: pending.append(route))
    page.goto(live_site["url"] + "/staff/login/")
    page.fill("#id_username", "ballerup.vej")
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(live_site["url"] + "/staff/")
    page.wait_for_function("() => window.os2geoMap && window.os2geoMap.getLayer('queue') && "
                           "window.os2geoMap.isSourceLoaded('queue')")
    page.wait_for_function("() => window.os2geoMap.queryRenderedFeatures("
                           "{layers: ['queue']}).length > 0")
    assert pending
    context.close()
