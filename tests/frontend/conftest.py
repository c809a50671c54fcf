"""Browser tests: Playwright driving Debian's chromium against a real daphne process on a
committed copy of the demo data. The module's server and data are shared by its tests; the
tables are emptied again afterwards."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.servers import ROOT, daphne_server, redis_server, run_python

ARTIFACTS = ROOT / "test-artifacts"
# The demo accounts' password in the browser tests' demo (an installation makes its own).
DEMO_PASSWORD = "browser-test-demo-password"
AXE = ROOT / "frontend" / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu-sandbox", "--no-first-run", "--disable-sync",
    # This machine's network is closed: without these, chromium keeps trying to reach
    # Google's hosts in the background.
    "--disable-background-networking", "--disable-component-update",
    "--disable-default-apps", "--disable-features=Translate,MediaRouter",
]


def chromium_path() -> str:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium",
                      shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and Path(candidate).exists():
            return candidate
    pytest.fail("chromium is not installed (script/test installs Debian's package)")


@pytest.fixture(scope="session")
def browser(django_db_setup):
    # The test database first: Playwright's event loop in this thread would refuse the
    # ORM calls that set it up.
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(),
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def live_site(django_db_setup, django_db_blocker, tmp_path_factory):
    """The demo, committed, served by daphne (with Redis, so that changes made by other
    processes reach the browsers' websockets)."""
    from django.core.management import call_command

    # Playwright's sync API runs an event loop in this thread; the ORM calls these tests
    # make between browser steps are plain sync code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with django_db_blocker.unblock():
        call_command("flush", interactive=False, verbosity=0)
    run_python("from reports.importers.demo import load_demo\n"
               "load_demo(reports_per_municipality=25, log=lambda line: None)",
               DEMO_PASSWORD=DEMO_PASSWORD)
    log = tmp_path_factory.mktemp("daphne") / "daphne.log"
    try:
        with redis_server() as redis_url, daphne_server(log_path=log, REDIS_URL=redis_url,
                                                        BASEMAP_STYLE="osm") as port:
            yield {"url": f"http://127.0.0.1:{port}", "redis_url": redis_url, "log": log}
    finally:
        from django.db import connections

        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
            connections.close_all()
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)


@pytest.fixture
def db_access(django_db_setup, django_db_blocker):
    """Read the committed data from the test itself. Changes go through run_python (another
    process, with the site's Redis), as they would from the dashboard or an API client:
    Playwright's event loop in this thread stops Channels' broadcasts from here."""
    from django.db import connections

    with django_db_blocker.unblock():
        yield
        connections.close_all()  # else the test database cannot be dropped at the end


@pytest.fixture(autouse=True)
def no_csp_violations(request):
    """Every page a browser test opens runs under the site's Content-Security-Policy; a
    test fails if the browser blocked anything (Chromium reports each block on the page's
    console as "Refused to …")."""
    if "browser" not in request.fixturenames:
        yield
        return
    browser = request.getfixturevalue("browser")
    refused: list[str] = []
    new_context = browser.new_context

    def watched_context(*args, **kwargs):
        context = new_context(*args, **kwargs)
        context.on("console", lambda message: refused.append(message.text)
                   if "Content Security Policy" in message.text else None)
        return context

    browser.new_context = watched_context
    try:
        yield
    finally:
        browser.new_context = new_context
    assert refused == [], refused


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True, locale="da-DK", device_scale_factor=2)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    yield page
    context.close()


# Our own layers are drawn and their sources have what the view needs. Not map.loaded():
# that waits for the base layer's tiles too, which may never come (no internet here).
OWN_LAYERS_DRAWN = """() => {
    const map = window.os2geoMap;
    if (!map || !map.getLayer('reports') || !map.getLayer('municipality-lines')) return false;
    return ['municipalities', 'reports', 'queue'].filter((id) => map.getSource(id))
        .every((id) => map.isSourceLoaded(id));
}"""


def wait_for_own_layers(page, timeout: float = 15_000) -> None:
    page.wait_for_function(OWN_LAYERS_DRAWN, timeout=timeout)


def rendered_report_ids(page) -> list[int]:
    return page.evaluate(
        "() => window.os2geoMap.queryRenderedFeatures({layers: ['reports']}).map(f => f.id)")


def wait_for_rendered_report(page, report_id: int, timeout: float = 10_000) -> None:
    """The report's dot is drawn on the map (from our vector tiles)."""
    page.wait_for_function(
        "(id) => window.os2geoMap.queryRenderedFeatures({layers: ['reports']})"
        ".some((f) => f.id === id)", arg=report_id, timeout=timeout)


def screenshot(page, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def axe_violations(page) -> list[dict]:
    """Serious and critical WCAG 2.1 A/AA violations axe-core finds on the page as it is.
    axe-core is evaluated through the browser's debugging protocol, which the page's
    Content-Security-Policy does not govern (an injected <script> tag would be refused)."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate("() => { " + AXE.read_text() + "\n window.axe = axe; }")
    result = page.evaluate("""async () => {
        const r = await axe.run(document, {runOnly: {type: 'tag',
            values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']}});
        return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
    }""")
    return [v for v in result if v["impact"] in ("serious", "critical")]


def axe_violations_without_script(page) -> list[dict]:
    """axe_violations of a page that runs without JavaScript: axe-core needs JavaScript,
    so the page's HTML as rendered is checked in a context that runs scripts, with the
    page's own scripts blocked."""
    html = page.content()
    context = page.context.browser.new_context(locale="da-DK")
    try:
        checked = context.new_page()
        checked.route("**/*.js", lambda route: route.abort())
        checked.set_content(html)
        return axe_violations(checked)
    finally:
        context.close()
