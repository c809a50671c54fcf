"""The "is it fixed?" page in a real browser on the demo: a phone, JavaScript turned off,
keyboard only, in Danish, without WCAG 2.1 AA violations (axe); "not fixed" reaches the
department's queue."""

from __future__ import annotations

import pytest

from tests.frontend.conftest import axe_violations_without_script, screenshot
from tests.servers import run_python

pytestmark = pytest.mark.browser

SET_UP = """
import datetime as dt
from django.contrib.gis.geos import Point
from django.utils import timezone
from reports import services
from reports.models import FollowUp
from reports.notifications import links
from reports.services import followup
report = services.report_create(location=Point(12.3633, 55.7300, srid=4326),
                                category_code="pothole", description="Hul ved skolen",
                                reporter=services.Reporter(email="borger@example.dk"))
days = report.municipality.follow_up_days + 1
services.report_transition(report_id=report.pk, to_status="resolved", public_text="Lappet.",
                           at=timezone.now() - dt.timedelta(days=days))
followup.follow_ups_send()
print(report.pk, links.token("follow-up", FollowUp.objects.get(report=report).pk))
"""

STATE = """
from reports.models import FollowUp, ReopenRequest
f = FollowUp.objects.get(report_id={id})
print(f.fixed, f.satisfaction, ReopenRequest.objects.filter(report_id={id}, state="open").count())
"""


def test_the_reporter_says_not_fixed_by_keyboard_without_javascript(browser, live_site):
    report_id, token = run_python(SET_UP, REDIS_URL=live_site["redis_url"]).split()
    context = browser.new_context(java_script_enabled=False, locale="da-DK",
                                  viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(f"{live_site['url']}/follow-up/{token}")
    assert page.locator("h1").inner_text() == f"Blev problemet i anmeldelse #{report_id} løst?"
    assert axe_violations_without_script(page) == []
    screenshot(page, "follow-up-page")
    # The radio groups and the comment are reached and set by keyboard alone.
    page.focus("#fixed-yes")
    page.keyboard.press("ArrowDown")  # → "No, it is not fixed"
    assert page.evaluate("() => document.activeElement.id") == "fixed-no"
    page.keyboard.press("Tab")
    assert page.evaluate("() => document.activeElement.name") == "satisfaction"
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.focus("#comment")
    page.keyboard.type("Hullet er der stadig, nu større.")
    page.focus("#follow-up-form button[type=submit]")
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Tak for dit svar')")
    assert "igen" in page.locator("main").inner_text()
    assert axe_violations_without_script(page) == []
    context.close()
    fixed, score, waiting = run_python(STATE.format(id=report_id),
                                       REDIS_URL=live_site["redis_url"]).split()
    assert fixed == "False" and waiting == "1" and score in {"2", "3"}
