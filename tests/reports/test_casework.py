"""Casework with people outside the staff, from the dashboard to the mail to the signed
page and back: one question to the reporter (the due date pauses; it lapses back to the
queue), a case handed to an external party (reply, photos, done or refused; staff see who
has it and since when; taking it back ends the link)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.utils import timezone
from PIL import Image

from reports import services
from reports.models import Handover, Photo, ReporterQuestion
from reports.notifications.worker import housekeeping, run_once
from tests.reports.factories import file_report
from tests.reports.notifications.helpers import link_in
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


@pytest.fixture
def report(world):
    return file_report(reporter=services.Reporter(name="Mette Holm", email="mette@example.dk",
                                                  phone="+45 20112233"),
                       description="Skilt væltet ved skolen")


def jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), "orange").save(out, "JPEG")
    return out.getvalue()


def upload(name="foto.jpg"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, jpeg(), content_type="image/jpeg")


def staff_post(client, world, report, action, **data):
    client.force_login(world["caseworker"])
    report.refresh_from_db()
    return client.post(f"/staff/reports/{report.pk}/{action}/",
                       {"version": report.version, **data})


def mailed_link(to: str, path: str) -> str:
    run_once()
    (message,) = [m for m in mail.outbox if m.to == [to]][-1:]
    return link_in(message.body, path)


def test_a_question_pauses_the_due_date_and_the_answer_comes_back_once(client, world,
                                                                       report):
    due = report.expected_at
    response = staff_post(client, world, report, "ask",
                          question="Står skiltet på fortovet eller på cykelstien?")
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.expected_at is None                      # paused while it waits
    page = client.get(f"/staff/reports/{report.pk}/", HTTP_ACCEPT_LANGUAGE="da").content
    assert "Venter på anmelderen".encode() in page

    link = mailed_link("mette@example.dk", "/questions/")
    client.logout()
    form = client.get(link, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "cykelstien" in form and 'enctype="multipart/form-data"' in form
    answered = client.post(link, {"answer": "På cykelstien, lige ved lyskrydset",
                                  "photo": upload()})
    assert answered.status_code == 200
    question = ReporterQuestion.objects.get()
    assert question.state == "answered" and "lyskrydset" in question.answer
    report.refresh_from_db()
    waited = question.answered_at - question.asked_at
    assert report.expected_at == due + waited               # the due time moved on
    photo = Photo.objects.get(report=report)
    assert photo.public is False                             # for staff only
    public = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert public["properties"]["photos"] == [] and public["properties"]["media_url"] is None
    assert "lyskrydset" not in str(public)
    open311 = client.get(f"/open311/v2/requests/{report.pk}.json?extensions=true").json()[0]
    assert open311["media_url"] is None and open311["extended_attributes"]["photos"] == []
    assert photo.thumbnail_url not in client.get(f"/reports/{report.pk}").content.decode()
    again = client.post(link, {"answer": "Og igen"})
    assert again.status_code == 409
    assert ReporterQuestion.objects.get().answer.startswith("På cykelstien")


def test_an_unanswered_question_lapses_back_to_the_queue(world, report):
    services_question = __import__("reports.services.casework", fromlist=["x"])
    services_question.question_ask(actor=world["caseworker"], report_id=report.pk,
                                   question="Hvor præcis?")
    ReporterQuestion.objects.update(answer_by=timezone.now() - dt.timedelta(minutes=1))
    assert any("lapsed" in line for line in housekeeping())
    question = ReporterQuestion.objects.get()
    assert question.state == "expired"
    report.refresh_from_db()
    assert report.expected_at is not None
    assert report.events.filter(kind="answer", internal_text__contains="No answer").exists()


def test_a_reporter_without_e_mail_cannot_be_asked_and_one_question_at_a_time(
        client, world):
    anonymous = file_report()
    response = staff_post(client, world, anonymous, "ask", question="Hvor?")
    assert response.status_code == 400
    assert not ReporterQuestion.objects.exists()
    named = file_report(reporter=services.Reporter(email="a@example.dk"))
    assert staff_post(client, world, named, "ask", question="Hvor?").status_code == 302
    assert staff_post(client, world, named, "ask", question="Og?").status_code == 409


def test_a_tampered_question_link_is_refused(client, report, world):
    staff_post(client, world, report, "ask", question="Hvor?")
    link = mailed_link("mette@example.dk", "/questions/")
    assert client.get(link[:-2] + "xx").status_code == 400
    assert client.post(link.replace("/questions/", "/handovers/"),
                       {"action": "done"}).status_code == 400


def test_a_contractor_gets_what_staff_share_replies_and_marks_it_done(client, world,
                                                                      report):
    response = staff_post(client, world, report, "handover", party="Vejservice A/S",
                          email="drift@vejservice.example.dk",
                          instructions="Rejs skiltet i dag.")
    assert response.status_code == 302
    link = mailed_link("drift@vejservice.example.dk", "/handovers/")
    message = mail.outbox[-1]
    assert "mette" not in message.body.lower()               # no contact in the mail
    client.logout()
    page = client.get(link, HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Rejs skiltet i dag." in page and "Vejservice A/S" in page
    assert "mette@example.dk" not in page and "20112233" not in page   # not shared
    sent = client.post(link, {"action": "reply", "text": "Vi kommer kl. 14.",
                              "photo": upload()})
    assert sent.status_code == 200 and 'id="reply-sent"' in sent.content.decode()
    done = client.post(link, {"action": "done", "text": "Skiltet står igen."})
    assert done.status_code == 200
    handover = Handover.objects.get()
    assert handover.state == "done" and handover.closed_at
    texts = list(report.events.filter(kind="external_reply")
                 .values_list("internal_text", flat=True))
    assert texts == ["Vejservice A/S replied: Vi kommer kl. 14. (1 photos for staff)",
                     "Vejservice A/S marked it done: Skiltet står igen."]
    assert client.post(link, {"action": "reply", "text": "x"}).status_code == 409
    client.force_login(world["caseworker"])
    staff_page = client.get(f"/staff/reports/{report.pk}/",
                            HTTP_ACCEPT_LANGUAGE="da").content.decode()
    assert "Vejservice A/S" in staff_page and "Udført af dem" in staff_page
    report.refresh_from_db()
    assert report.status == "submitted"   # staff close the case; the contractor's part is done


def test_shared_contact_is_shown_and_taking_the_case_back_ends_the_link(client, world,
                                                                        report):
    staff_post(client, world, report, "handover", party="HOFOR", email="sag@hofor.example.dk",
               share_contact="on")
    link = mailed_link("sag@hofor.example.dk", "/handovers/")
    page = client.get(link).content.decode()
    assert "mette@example.dk" in page and "20112233" in page
    handover = Handover.objects.get()
    assert staff_post(client, world, report, "withdraw",
                      handover=handover.pk).status_code == 302
    client.logout()
    page = client.get(link).content.decode()
    assert 'id="handover-closed"' in page and 'id="handover-form"' not in page
    assert client.post(link, {"action": "reply", "text": "x"}).status_code == 409


def test_handing_over_is_scoped_to_the_users_departments(client, world, report):
    client.force_login(world["outsider"])
    response = client.post(f"/staff/reports/{report.pk}/handover/",
                           {"version": report.version, "party": "X",
                            "email": "x@example.dk"})
    assert response.status_code == 404
    assert not Handover.objects.exists()


def test_an_expired_handover_link_shows_the_case_closed(client, world, report):
    staff_post(client, world, report, "handover", party="Vejservice",
               email="v@example.dk")
    link = mailed_link("v@example.dk", "/handovers/")
    Handover.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    page = client.get(link).content.decode()
    assert 'id="handover-closed"' in page
    assert client.post(link, {"action": "done"}).status_code == 409
