"""The citizen map in a real browser (phone-sized), against a live server on the demo."""

from __future__ import annotations

import json
import time

import pytest
from PIL import Image

from tests.frontend.conftest import (
    axe_violations,
    axe_violations_without_script,
    screenshot,
    wait_for_own_layers,
    wait_for_rendered_report,
)
from tests.servers import run_python

pytestmark = pytest.mark.browser

ELIASGADE = (12.6186185, 55.6658287)  # Eliasgade 10, 2300 København S (a shipped address)
AARHUS = (10.2039, 56.1629)  # not served here


def photo_file(tmp_path, size=(3000, 2000)) -> str:
    """A real JPEG, larger than the browser will send (it is resized before upload)."""
    path = tmp_path / "hul.jpg"
    image = Image.new("RGB", size, (120, 110, 100))
    for x in range(0, size[0], 50):
        image.paste((200, 40, 40), (x, 0, x + 10, size[1]))
    image.save(path, "JPEG", quality=92)
    return str(path)


FILE_REPORT = """
from django.contrib.gis.geos import Point
from reports import services
report = services.report_create(location=Point({lon}, {lat}, srid=4326),
                                category_code={category!r}, description={description!r},
                                reporter=services.Reporter(email="borger@example.dk"))
print(report.pk)
"""


def file_report(site, lon, lat, category, description) -> int:
    return int(run_python(FILE_REPORT.format(lon=lon, lat=lat, category=category,
                                             description=description),
                          REDIS_URL=site["redis_url"]))


def open_map(page, site, *, at=None, zoom=16):
    query = f"?lon={at[0]}&lat={at[1]}&zoom={zoom}" if at else ""
    page.goto(site["url"] + "/" + query)
    wait_for_own_layers(page)


def place_by_address(page, text: str):
    page.fill("#address-input", text)
    page.wait_for_selector("#address-results [role=option]")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#place-next:not([disabled])")


def test_a_citizen_files_a_report_with_a_photo_on_a_phone(phone, live_site, db_access,
                                                           tmp_path):
    from reports.models import Report

    started = time.monotonic()
    open_map(phone, live_site)
    screenshot(phone, "map-phone")
    phone.click("#start-report")
    place_by_address(phone, "Eliasgade 10")
    assert "Eliasgade 10" in phone.inner_text("#place-summary")
    phone.click("#place-next")
    phone.locator("#category-choices input[type=radio]").first.check()
    phone.click("#what-next")
    phone.fill("#description", "Stort hul i vejen foran nummer 10")
    phone.set_input_files("#photos", photo_file(tmp_path))
    phone.wait_for_selector("#photo-previews img")
    phone.fill("#reporter-name", "Test Borger")
    phone.fill("#reporter-email", "borger@example.dk")
    screenshot(phone, "report-form-phone")
    phone.click("#submit-report")
    phone.wait_for_selector("#done:not([hidden])", timeout=20_000)
    elapsed = time.monotonic() - started
    screenshot(phone, "report-sent-phone")
    link = phone.get_attribute("#done-link", "href")
    report_id = int(link.rstrip("/").split("/")[-1])

    report = Report.objects.get(pk=report_id)
    assert report.description == "Stort hul i vejen foran nummer 10"
    assert report.reporter_email == "borger@example.dk"
    assert report.municipality.code == "0101"
    photo = report.photos.get()
    assert max(photo.width, photo.height) <= 1600  # resized in the browser (from 3000)
    print(f"report filed in {elapsed:.1f} s of browser time")

    # It is on the map (vector tile) and in the list once the map looks there.
    open_map(phone, live_site, at=ELIASGADE, zoom=17)
    phone.wait_for_selector(f'#report-list [data-report-id="{report_id}"]')
    wait_for_rendered_report(phone, report_id)
    assert phone.errors == []


def test_nearby_open_report_of_the_same_category_is_offered_to_follow(phone, live_site,
                                                                      db_access):
    from reports.models import Category, Report, Subscription

    category = Category.objects.filter(municipality__code="0101", active=True).order_by(
        "name").first()
    existing = Report.objects.get(pk=file_report(
        live_site, ELIASGADE[0] + 0.0004, ELIASGADE[1], category.code,
        "Hullet er allerede meldt"))
    open_map(phone, live_site, at=ELIASGADE, zoom=17)
    phone.click("#start-report")
    phone.click("#pin-centre")
    phone.wait_for_selector("#place-next:not([disabled])")
    phone.click("#place-next")
    phone.check(f"#category-{category.code}")
    duplicate = phone.locator("#duplicate-list li", has_text=f"#{existing.pk}")
    duplicate.wait_for()
    screenshot(phone, "duplicate-suggestion-phone")
    duplicate.get_by_role("button", name="Det er også mit problem").click()
    duplicate.locator("input[type=email]").fill("ogsaa@example.dk")
    duplicate.locator("button.primary").click()
    duplicate.locator("[role=status]").filter(has_text="Tak").wait_for()
    assert Subscription.objects.filter(report=existing, email="ogsaa@example.dk").exists()


def test_a_point_outside_every_municipality_gets_a_message_before_any_form(phone, live_site):
    open_map(phone, live_site, at=AARHUS, zoom=15)
    phone.click("#start-report")
    phone.click("#pin-centre")
    error = phone.locator("#place-error")
    error.wait_for(state="visible")
    assert "uden for" in error.inner_text()  # Danish: outside the municipalities served
    assert phone.is_disabled("#place-next")
    assert phone.is_hidden("#step-what") and phone.is_hidden("#step-details")
    screenshot(phone, "outside-area-phone")


def test_language_switch_changes_server_and_browser_text(phone, live_site):
    open_map(phone, live_site)
    assert phone.get_attribute("html", "lang") == "da"
    assert phone.inner_text("#start-report") == "Meld et problem"
    assert phone.get_attribute(".maplibregl-ctrl-zoom-in", "title") == "Zoom ind"
    for language, button, zoom_in in (("sv", "Rapportera ett problem", "Zooma in"),
                                      ("en", "Report a problem", "Zoom in")):
        phone.select_option("#language-select", language)
        with phone.expect_navigation():
            phone.click(".language button[type=submit]")
        wait_for_own_layers(phone)
        assert phone.get_attribute("html", "lang") == language
        assert phone.inner_text("#start-report") == button  # Django's gettext
        assert phone.get_attribute(".maplibregl-ctrl-zoom-in", "title") == zoom_in  # JS catalog


TRANSITION = """
from reports import services
services.report_transition(report_id={report_id}, to_status="in_progress",
                           public_text="Vi er i gang")
"""


def test_a_status_change_reaches_an_open_report_page_and_the_map_live(browser, live_site,
                                                                       db_access):
    from reports.models import Category, Report

    category = Category.objects.filter(municipality__code="0101", active=True).first()
    report = Report.objects.get(pk=file_report(
        live_site, ELIASGADE[0] - 0.0006, ELIASGADE[1] + 0.0003, category.code,
        "Lampen er slukket"))
    # Two people (two browser contexts): one follows the report, one watches the map.
    contexts = [browser.new_context(viewport={"width": 390, "height": 844}, locale="da-DK")
                for _ in range(2)]
    page, map_page = (context.new_page() for context in contexts)
    page.goto(f"{live_site['url']}/reports/{report.pk}")
    page.wait_for_function("() => document.body.dataset.live === 'open'")
    open_map(map_page, live_site, at=ELIASGADE, zoom=17)
    map_page.wait_for_function("() => document.body.dataset.live === 'open'")
    item = map_page.locator(f'#report-list [data-report-id="{report.pk}"]')
    item.wait_for()
    assert "Modtaget" in item.inner_text()

    # The change is made by another process, as the staff dashboard or an API would.
    run_python(TRANSITION.format(report_id=report.pk), REDIS_URL=live_site["redis_url"])

    page.locator("#report-status-label", has_text="I gang").wait_for(timeout=10_000)
    page.locator("#timeline", has_text="Vi er i gang").wait_for()
    screenshot(page, "report-page-live")
    map_page.locator(f'#report-list [data-report-id="{report.pk}"]',
                     has_text="I gang").wait_for(timeout=10_000)
    for context in contexts:
        context.close()


def test_a_lost_answer_is_retried_with_the_same_key_and_files_one_report(phone, live_site,
                                                                         db_access):
    from reports.models import Report

    attempts = []

    def lose_first_answer(route):
        if route.request.method != "POST":
            route.continue_()
            return
        attempts.append(route.request.headers.get("idempotency-key"))
        if len(attempts) == 1:
            route.fetch()  # the server gets it and files the report...
            route.abort("connectionreset")  # ...but the answer never arrives
        else:
            route.continue_()

    phone.route("**/api/v1/reports/", lose_first_answer)
    open_map(phone, live_site)
    phone.click("#start-report")
    place_by_address(phone, "Eliasgade 10")
    phone.click("#place-next")
    phone.locator("#category-choices input[type=radio]").first.check()
    phone.click("#what-next")
    description = "Skiltet er væltet (forbindelsen svigtede)"
    phone.fill("#description", description)
    phone.fill("#reporter-email", "flaky@example.dk")
    phone.click("#submit-report")
    phone.wait_for_selector("#done:not([hidden])", timeout=20_000)
    assert len(attempts) >= 2 and len(set(attempts)) == 1  # retried with the same key
    reports = list(Report.objects.filter(description=description))
    assert len(reports) == 1
    assert phone.get_attribute("#done-link", "href").endswith(f"/reports/{reports[0].pk}")


def test_pages_have_no_serious_accessibility_violations(phone, live_site, db_access):
    from reports.models import Report

    open_map(phone, live_site)
    problems = {"map": axe_violations(phone)}
    phone.click("#start-report")
    problems["report flow: place"] = axe_violations(phone)
    place_by_address(phone, "Eliasgade 10")
    phone.click("#place-next")
    phone.locator("#category-choices input[type=radio]").first.check()
    problems["report flow: what"] = axe_violations(phone)
    phone.click("#what-next")
    problems["report flow: details"] = axe_violations(phone)
    report = Report.objects.filter(public=True).order_by("id").first()
    phone.goto(f"{live_site['url']}/reports/{report.pk}")
    problems["report page"] = axe_violations(phone)
    screenshot(phone, "report-page-phone")
    assert {page: found for page, found in problems.items() if found} == {}, json.dumps(
        problems, indent=1, ensure_ascii=False)


def test_keyboard_alone_can_place_the_pin(phone, live_site):
    open_map(phone, live_site)
    phone.click("#start-report")
    phone.focus(".maplibregl-canvas")
    before = phone.evaluate("() => window.os2geoMap.getCenter().toArray()")
    phone.keyboard.press("ArrowRight")
    phone.wait_for_function("() => !window.os2geoMap.isMoving()")
    after = phone.evaluate("() => window.os2geoMap.getCenter().toArray()")
    assert after[0] > before[0]
    phone.focus("#pin-centre")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("#place-next:not([disabled])")


def test_photo_is_resized_in_the_browser(phone, live_site, tmp_path):
    open_map(phone, live_site)
    size = phone.evaluate("""async () => {
        const {resizePhoto} = await import('/static/frontend/js/photos.js');
        const canvas = document.createElement('canvas'); canvas.width = 4000; canvas.height = 3000;
        canvas.getContext('2d').fillRect(0, 0, 10, 10);
        const blob = await new Promise(r => canvas.toBlob(r, 'image/png'));
        const side = JSON.parse(document.getElementById('map-config').textContent)
            .limits.photoResizeSide;  // the server's setting, 1600 by default
        const out = await resizePhoto(new File([blob], 'x.png', {type: 'image/png'}), side);
        const bitmap = await createImageBitmap(out);
        return [bitmap.width, bitmap.height, out.type];
    }""")
    assert size == [1600, 1200, "image/jpeg"]


def test_the_api_docs_page_renders_offline_under_the_content_security_policy(phone,
                                                                           live_site):
    phone.goto(live_site["url"] + "/api/v1/docs/")
    phone.locator(".swagger-ui .opblock").first.wait_for(timeout=15_000)
    assert "/api/v1/reports/" in phone.inner_text(".swagger-ui")
    assert phone.errors == []


def test_a_stopper_ends_the_flow_before_the_form_and_a_notice_shows_in_it(phone, live_site,
                                                                          db_access):
    """On a phone, in Danish: a pothole in Måløv (a state road here) is stopped with where
    to go instead; litter there goes on, with the emergency notice before and in the form."""
    from maps.models import Area
    from reports.models import CategoryNotice, Municipality

    ballerup = Municipality.objects.get(code="0151")
    made = [
        CategoryNotice.objects.create(
            municipality=ballerup, kind="notice", text_da="Ring 112 ved akut fare.",
            phone="112"),
        CategoryNotice.objects.create(
            municipality=ballerup, kind="stopper",
            category=ballerup.categories.get(code="pothole"),
            area=Area.objects.get(kind=Area.Kind.DISTRICT, code="2760"),
            text_da="Vejen her er en statsvej. Kontakt Vejdirektoratet.",
            link="https://www.vejdirektoratet.dk/", phone="72 44 33 33"),
    ]
    try:
        open_map(phone, live_site, at=(12.3180, 55.7480), zoom=16)
        phone.click("#start-report")
        phone.click("#pin-centre")
        phone.wait_for_selector("#place-next:not([disabled])")
        phone.click("#place-next")
        phone.check("#category-pothole")
        stopper = phone.locator("#category-notices .notice-stopper[role=alert]")
        stopper.wait_for()
        assert "Vejdirektoratet" in stopper.inner_text()
        assert stopper.locator("a[href='tel:72443333']").count() == 1
        assert phone.is_disabled("#what-next")
        assert axe_violations(phone) == []
        stopper.scroll_into_view_if_needed()
        screenshot(phone, "stopper-phone")
        litter = phone.locator("#category-choices input[value=litter]")
        litter.check()
        assert phone.locator("#category-notices .notice-stopper").count() == 0
        assert "Ring 112" in phone.inner_text("#category-notices")
        phone.click("#what-next")
        assert "Ring 112" in phone.inner_text("#details-notices")
        assert phone.errors == []
        # A private category says beforehand that its reports are not on the map.
        rats = ballerup.categories.get(code="rats")
        rats.visibility = "private"
        rats.save()
        phone.click("#details-back")
        phone.click("#what-back")
        phone.click("#pin-centre")                # the categories are read again
        phone.wait_for_selector("#place-next:not([disabled])")
        phone.click("#place-next")
        phone.check("#category-rats")
        phone.wait_for_selector("#category-notices :text('vises ikke på kortet')")
        assert not phone.is_disabled("#what-next")
    finally:
        for notice in made:
            notice.delete()
        ballerup.categories.filter(code="rats").update(visibility="public")


def test_on_the_demo_state_road_a_pothole_is_stopped_and_a_street_light_goes_to_the_state(
        phone, live_site, db_access):
    """On a phone, in Danish, on the demo's state road (data/roads/demo-statsvej.geojson,
    Vejdirektoratet's): a pothole is stopped before the form with their number; a street
    light is filed and forwarded to them, and the reporter is told so."""
    from reports.models import Handover, Report

    choose_category_at(phone, live_site, 12.3985, 55.7300, "pothole")
    stopper = phone.locator("#category-notices .notice-stopper[role=alert]")
    stopper.wait_for()
    assert "Vejdirektoratet" in stopper.inner_text()
    assert stopper.locator("a[href='tel:72443333']").count() == 1
    assert phone.is_disabled("#what-next")
    assert axe_violations(phone) == []
    screenshot(phone, "state-road-stopper-phone")
    phone.check("#category-street-light")
    phone.wait_for_selector("#category-notices :text('Vejdirektoratet er ansvarlig her')")
    assert phone.locator("#category-notices .notice-stopper").count() == 0
    phone.click("#what-next")
    assert "Vejdirektoratet" in phone.inner_text("#details-notices")
    phone.fill("#description", "Gadelampen ved statsvejen er slukket")
    phone.fill("#reporter-email", "borger@example.dk")
    phone.click("#submit-report")
    phone.wait_for_selector("#done:not([hidden])", timeout=20_000)
    assert "sendt til Vejdirektoratet" in phone.inner_text("#done")
    screenshot(phone, "state-road-forwarded-phone")
    report_id = int(phone.get_attribute("#done-link", "href").rstrip("/").split("/")[-1])
    report = Report.objects.get(pk=report_id)
    assert report.responsible_body.name == "Vejdirektoratet"
    assert Handover.objects.get(report=report).party == "Vejdirektoratet"
    phone.goto(f"{live_site['url']}/reports/{report_id}")
    assert "Sendt til Vejdirektoratet" in phone.inner_text("main")
    assert phone.inner_text("#report-department") == "Vejdirektoratet"
    assert phone.errors == []


def choose_category_at(phone, site, lon, lat, category):
    open_map(phone, site, at=(lon, lat), zoom=17)
    phone.click("#start-report")
    phone.click("#pin-centre")
    phone.wait_for_selector("#place-next:not([disabled])")
    phone.click("#place-next")
    phone.check(f"#category-{category}")


def test_a_citizen_picks_the_street_light_on_the_map_or_by_keyboard_and_files_against_it(
        phone, live_site, db_access):
    """On a phone, in Danish, on the demo's generated street lights: the lights show on the
    map and the nearest is chosen; the keyboard chooses another in the list, a tap on the
    map another still; one already reported offers to follow it; the report is filed on
    the chosen light."""
    from reports.models import Asset, Report

    lights = Asset.objects.filter(asset_type__code="street-light",
                                  asset_type__municipality__code="0151")
    reported = lights.filter(reports__status="submitted").first()
    free = lights.exclude(reports__isnull=False).order_by("external_id")[100]
    choose_category_at(phone, live_site, free.location.x, free.location.y, "street-light")
    phone.wait_for_selector(f"#asset-{free.pk}:checked")
    assert "Hvilken er det? (Gadelys)" in phone.inner_text("#assets-legend")
    phone.wait_for_function(
        "() => window.os2geoMap.queryRenderedFeatures({layers: ['assets']}).length > 3")
    assert axe_violations(phone) == []
    phone.locator("#assets").scroll_into_view_if_needed()
    screenshot(phone, "asset-choice-phone")
    # The keyboard: the arrow keys move through the list of the nearest.
    phone.focus(f"#asset-{free.pk}")
    phone.keyboard.press("ArrowDown")
    second = phone.evaluate("() => document.querySelector('#asset-choices input:checked').id")
    assert second != f"asset-{free.pk}" and second != "asset-none"
    # A tap on the map: a light in view that the list did not offer (the pin moves to it).
    phone.locator("#map").scroll_into_view_if_needed()
    tapped = phone.evaluate("""(skip) => {
        const map = window.os2geoMap;
        const box = map.getCanvas().getBoundingClientRect();
        const hit = map.queryRenderedFeatures({layers: ['assets']}).find((f) => {
            const p = map.project(f.geometry.coordinates);
            return !skip.includes(f.id) && !f.properties.open_reports
                && p.x > 40 && p.y > 40 && p.x < box.width - 60 && p.y < box.height - 40;
        });
        const p = map.project(hit.geometry.coordinates);
        return {id: hit.id, x: box.left + p.x, y: box.top + p.y,
                under: document.elementFromPoint(box.left + p.x, box.top + p.y).className};
    }""", [free.pk, int(second.split("-")[1])])
    assert "maplibregl-canvas" in tapped["under"], tapped
    phone.mouse.click(tapped["x"], tapped["y"])
    phone.wait_for_selector(f"#asset-{tapped['id']}:checked")
    phone.locator("#map").scroll_into_view_if_needed()
    screenshot(phone, "asset-map-phone")
    assert phone.is_hidden("#asset-reported")
    chosen = Asset.objects.get(pk=tapped["id"])
    phone.click("#what-next")
    assert chosen.label in phone.inner_text("#asset-summary")
    phone.fill("#description", "Lampen er slukket om aftenen")
    phone.check("#anonymous")
    phone.click("#submit-report")
    phone.wait_for_selector("#done:not([hidden])", timeout=20_000)
    report_id = int(phone.get_attribute("#done-link", "href").rstrip("/").split("/")[-1])
    report = Report.objects.get(pk=report_id)
    assert (report.asset_id, report.asset_label) == (chosen.pk, chosen.label)
    assert report.location.equals_exact(chosen.location, 1e-6)
    # A light with an open report: "this is my problem too" before the form.
    phone.click("#done-close")
    choose_category_at(phone, live_site, reported.location.x, reported.location.y,
                       "street-light")
    phone.wait_for_selector(f"#asset-{reported.pk}:checked")
    phone.wait_for_selector("#asset-reported:not([hidden])")
    assert "allerede meldt" in phone.inner_text(f"label[for=asset-{reported.pk}]")
    follow = phone.locator("#asset-report-list button", has_text="Det er også mit problem")
    assert follow.count() >= 1
    assert axe_violations(phone) == []
    phone.locator("#asset-reported").scroll_into_view_if_needed()
    screenshot(phone, "asset-already-reported-phone")
    assert phone.errors == []


def test_a_report_without_the_map_by_keyboard_with_javascript_off(browser, live_site,
                                                                   db_access):
    """The whole path without the map and without JavaScript, by keyboard alone, read the
    way a screen reader reads it (the accessibility tree), in Danish."""
    from reports.models import Report

    context = browser.new_context(java_script_enabled=False, locale="da-DK",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_site["url"] + "/report/")
    tree = page.locator("main").aria_snapshot()
    assert 'heading "Meld et problem uden kort"' in tree
    assert 'textbox "Adresse (vej og husnummer, postnummer eller by)"' in tree
    assert axe_violations_without_script(page) == []

    def tab_to(selector: str) -> None:
        for _ in range(40):
            if page.evaluate("(s) => document.activeElement.matches(s)", selector):
                return
            page.keyboard.press("Tab")
        raise AssertionError(f"{selector} is not reached by Tab")

    tab_to("#q")
    page.keyboard.type("Eliasgade 10")
    page.keyboard.press("Enter")
    page.wait_for_selector(".address-matches a")
    assert 'link "Eliasgade 10' in page.locator("main").aria_snapshot()
    tab_to(".address-matches a")
    page.keyboard.press("Enter")
    page.wait_for_selector("#report-form")
    tree = page.locator("main").aria_snapshot()
    assert 'group "Kategori (skal udfyldes)"' in tree and 'radio "Hul i vejen' in tree
    assert 'textbox "Beskriv problemet (skal udfyldes)"' in tree
    assert axe_violations_without_script(page) == []
    screenshot(page, "report-without-map")
    tab_to("input[name=category]")            # a radio group: Tab in, arrows within
    for _ in range(20):
        if page.evaluate("() => document.activeElement.id") == "category-pothole":
            break
        page.keyboard.press("ArrowDown")
    page.keyboard.press("Space")
    assert page.is_checked("#category-pothole")
    tab_to("#description")
    page.keyboard.type("Dybt hul, meldt uden kort og uden JavaScript")
    tab_to("#email")
    page.keyboard.type("uden.kort@example.dk")
    tab_to("#report-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1")
    heading = page.locator("h1").inner_text()
    assert heading.startswith("Tak: henvendelse nr.") or heading == "Se i din mail"
    assert axe_violations_without_script(page) == []
    report = Report.objects.get(description="Dybt hul, meldt uden kort og uden JavaScript")
    assert report.reporter_email == "uden.kort@example.dk" and "Eliasgade 10" in report.address
    context.close()
