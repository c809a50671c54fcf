"""The pages behind the signed links, in a real browser on the demo, in Danish: the
reporter answers a question on a phone by keyboard, an external party reports the case
done with JavaScript turned off; both without WCAG 2.1 AA violations (axe)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from tests.frontend.conftest import axe_violations, axe_violations_without_script, screenshot
from tests.servers import run_python

pytestmark = pytest.mark.browser

SET_UP = """
from django.contrib.auth.models import User
from django.contrib.gis.geos import Point
from reports import services
from reports.notifications import links
from reports.services import casework
report = services.report_create(location=Point(12.3633, 55.7300, srid=4326),
                                category_code="pothole", description="Hul ved skolen",
                                reporter=services.Reporter(email="borger@example.dk"))
staff = User.objects.get(username="ballerup.vej")
question = casework.question_ask(actor=staff, report_id=report.pk,
                                 question="Hvor stort er hullet, og er det på cykelstien?")
handover = casework.handover_send(actor=staff, report_id=report.pk, party="Vejservice A/S",
                                  email="drift@vejservice.example.dk",
                                  instructions="Afspær hullet i dag.")
print(report.pk, links.token("question-answer", question.pk), links.token("handover", handover.pk))
"""

STATE = """
from reports.models import Handover, ReporterQuestion
q = ReporterQuestion.objects.get(report_id={id})
h = Handover.objects.get(report_id={id})
print(q.state, repr(q.answer), h.state)
"""


def photo_file(tmp_path):
    path = tmp_path / "hul.jpg"
    out = io.BytesIO()
    Image.new("RGB", (64, 48), "gray").save(out, "JPEG")
    path.write_bytes(out.getvalue())
    return path


def test_the_reporter_answers_by_keyboard_and_the_contractor_without_javascript(
        browser, phone, live_site, tmp_path):
    report_id, question_token, handover_token = run_python(
        SET_UP, REDIS_URL=live_site["redis_url"]).split()

    phone.goto(f"{live_site['url']}/questions/{question_token}")
    assert phone.locator("h1").inner_text() == f"Et spørgsmål om din henvendelse nr. {report_id}"
    assert "cykelstien" in phone.locator("#question-text").inner_text()
    assert axe_violations(phone) == []
    screenshot(phone, "question-page")
    phone.keyboard.press("Tab")
    for _ in range(20):  # the answer field is reached by Tab alone
        if phone.evaluate("() => document.activeElement.id") == "answer":
            break
        phone.keyboard.press("Tab")
    assert phone.evaluate("() => document.activeElement.id") == "answer"
    phone.keyboard.type("Ca. 40 cm bredt, midt på cykelstien.")
    phone.set_input_files("#photo", str(photo_file(tmp_path)))
    phone.focus("#answer-form button[type=submit]")
    phone.keyboard.press("Enter")
    phone.wait_for_selector("h1:has-text('Tak for dit svar')")
    assert axe_violations(phone) == []

    context = browser.new_context(java_script_enabled=False, locale="da-DK",
                                  viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_site['url']}/handovers/{handover_token}")
    assert "Afspær hullet i dag." in page.locator("#instructions").inner_text()
    assert "borger@example.dk" not in page.content()  # the contact was not shared
    assert axe_violations_without_script(page) == []
    screenshot(page, "handover-page")
    page.fill("#text", "Afspærret og lappet kl. 14.")
    page.click("button[value=done]")
    page.wait_for_selector("h1:has-text('Tak')")
    assert "udført" in page.locator(".lead").inner_text()
    context.close()

    state = run_python(STATE.format(id=report_id), REDIS_URL=live_site["redis_url"])
    assert state.split(maxsplit=1)[0] == "answered"
    assert "cykelstien" in state and state.split()[-1] == "done"
