"""The staff dashboard in real browsers against a live server on the demo: log in, take a
fresh report from the queue to resolved while a colleague's queue follows live, and merge a
duplicate."""

from __future__ import annotations

import pytest

from tests.frontend.conftest import DEMO_PASSWORD, axe_violations, screenshot
from tests.servers import run_python

pytestmark = pytest.mark.browser

BALLERUP_TOWN = (12.3633, 55.7300)
FILE_REPORT = """
from django.contrib.gis.geos import Point
from reports import services
report = services.report_create(location=Point({lon}, {lat}, srid=4326),
                                category_code="pothole", description={description!r},
                                reporter=services.Reporter(email="borger@example.dk"))
print(report.pk)
"""


def file_report(site, description, lon=BALLERUP_TOWN[0], lat=BALLERUP_TOWN[1]) -> int:
    return int(run_python(FILE_REPORT.format(lon=lon, lat=lat, description=description),
                          REDIS_URL=site["redis_url"]))


def staff_page(browser, site, username):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="da-DK")
    page = context.new_page()
    page.goto(site["url"] + "/staff/")
    assert "/staff/login/" in page.url
    page.fill("#id_username", username)
    page.fill("#id_password", DEMO_PASSWORD)
    page.click("main button[type=submit]")
    page.wait_for_url(site["url"] + "/staff/")
    page.wait_for_function("() => document.body.dataset.live === 'open'")
    return page


def act(page, form_id: str):
    with page.expect_navigation():
        page.click(f"#{form_id} button[type=submit]")


def test_a_fresh_report_is_triaged_to_resolved_and_a_colleague_sees_it_live(browser,
                                                                              live_site):
    colleague = staff_page(browser, live_site, "ballerup.vej2")
    caseworker = staff_page(browser, live_site, "ballerup.vej")
    report_id = file_report(live_site, "Nyt hul foran rådhuset")

    # Both queues get the new report without a reload.
    for page in (colleague, caseworker):
        page.locator(f"#report-{report_id}.new").wait_for(timeout=10_000)
    screenshot(caseworker, "staff-queue")
    assert axe_violations(caseworker) == []

    caseworker.click(f"#report-{report_id} a")
    caseworker.wait_for_selector("#form-status")
    assert "borger@example.dk" in caseworker.inner_text(".facts")
    for status in ("acknowledged", "in_progress"):
        caseworker.select_option("#status-select", status)
        act(caseworker, "form-status")
    caseworker.select_option("#status-select", "resolved")
    caseworker.select_option("#status-template", label="Løst")
    assert "løst" in caseworker.input_value("#status-text")
    act(caseworker, "form-status")
    assert caseworker.inner_text("#report-version") == "4"
    screenshot(caseworker, "staff-report-resolved")
    assert axe_violations(caseworker) == []

    # The colleague's queue row changed in place, without a reload.
    row = colleague.locator(f"#report-{report_id}")
    row.locator(".status-resolved").wait_for(timeout=10_000)
    assert colleague.evaluate("() => performance.getEntriesByType('navigation').length") == 1
    colleague.context.close()
    caseworker.context.close()


def test_a_duplicate_is_merged_into_a_nearby_report(browser, live_site):
    original = file_report(live_site, "Hul i cykelstien", lon=12.3700, lat=55.7320)
    duplicate = file_report(live_site, "Samme hul i cykelstien", lon=12.3702, lat=55.7321)
    page = staff_page(browser, live_site, "ballerup.vej")
    page.goto(f"{live_site['url']}/staff/reports/{duplicate}/")
    page.check(f"#into-{original}")
    act(page, "form-merge")
    assert page.locator("h1 .status-duplicate").count() == 1
    page.goto(f"{live_site['url']}/staff/reports/{original}/")
    assert f"#{duplicate}" in page.inner_text("#timeline")
    page.context.close()


def test_a_change_made_before_the_socket_opens_is_still_shown(browser, live_site):
    """The page is rendered, a colleague changes the report, then the socket opens: the
    event went out before anyone listened, and the page must still learn of the change."""
    report_id = file_report(live_site, "Lampe slukket")
    first = staff_page(browser, live_site, "ballerup.vej")
    second = staff_page(browser, live_site, "ballerup.vej2")
    held = []  # the page's script, and so its socket, wait until released
    second.route("**/staff-detail.js", lambda route: held.append(route))
    second.goto(f"{live_site['url']}/staff/reports/{report_id}/", wait_until="commit")
    second.locator("#report-version").wait_for()
    first.goto(f"{live_site['url']}/staff/reports/{report_id}/")
    first.select_option("#status-select", "acknowledged")
    act(first, "form-status")
    assert held, "the page did not ask for its script"
    held[0].continue_()
    second.locator("#changed-elsewhere").wait_for(timeout=10_000)
    first.context.close()
    second.context.close()


def test_a_report_filed_before_the_queue_listens_still_appears(browser, live_site):
    page = staff_page(browser, live_site, "ballerup.vej")
    held = []  # the queue's script, and so its socket, wait until released
    page.route("**/staff-queue.js", lambda route: held.append(route))
    page.goto(f"{live_site['url']}/staff/", wait_until="commit")
    page.locator("main h1").wait_for()
    report_id = file_report(live_site, "Bænk knækket")
    assert held, "the page did not ask for its script"
    held[0].continue_()
    page.locator(f"#report-{report_id}").wait_for(timeout=10_000)
    page.context.close()


def test_a_stale_form_gets_the_fresh_report_and_a_message(browser, live_site):
    report_id = file_report(live_site, "Skilt væltet")
    first = staff_page(browser, live_site, "ballerup.vej")
    second = staff_page(browser, live_site, "ballerup.vej2")
    for page in (first, second):
        page.goto(f"{live_site['url']}/staff/reports/{report_id}/")
    first.select_option("#status-select", "acknowledged")
    act(first, "form-status")
    second.locator("#changed-elsewhere").wait_for(timeout=10_000)  # warned live
    second.select_option("#status-select", "rejected")
    second.fill("#status-text", "Ikke kommunens skilt")
    with second.expect_navigation() as navigation:
        second.click("#form-status button[type=submit]")
    assert navigation.value.status == 409
    assert second.locator("#action-error").is_visible()
    assert second.inner_text("#report-version") == "2"
    first.context.close()
    second.context.close()
