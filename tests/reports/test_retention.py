"""Personal data over time, proved by looking everywhere: after a redaction's purge, a
retention run or an erasure, the removed text is in no column of any table and the removed
photos in no file (tests/personal_data.py scans them all, not the places we know of)."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.contrib.gis.geos import Point
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.utils import timezone
from PIL import Image

from geoservice.errors import InvalidInput
from reports import services
from reports.models import (
    REMOVED,
    AreaAlert,
    DeletionLog,
    Notification,
    Photo,
    Redaction,
    Report,
    RetentionRule,
    Subscription,
)
from reports.notifications.worker import housekeeping, run_once
from reports.services import data_subjects, moderation, retention
from tests.personal_data import media_files, places_holding
from tests.reports.factories import file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db

EMAIL = "mette.holm@example.dk"
PHONE = "+45 20 11 22 33"
NAME = "Mette Holm"


@pytest.fixture
def world():
    return staff_world()


def jpeg(colour: str = "orange") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), colour).save(out, "JPEG")
    return out.getvalue()


def reporter_report(description: str = "Hul i asfalten ud for nr. 12",
                    **kwargs) -> Report:
    return file_report(reporter=services.Reporter(name=NAME, email=EMAIL, phone=PHONE),
                       description=description, photos=[jpeg()], **kwargs)


def close(report: Report, *, days_ago: int, status: str = "resolved") -> None:
    services.report_transition(report_id=report.pk, to_status=status,
                               public_text="Lukket.",
                               at=timezone.now() - dt.timedelta(days=days_ago))


def staff_view(client, user, report):
    client.force_login(user)
    return client.get(f"/staff/reports/{report.pk}/").content.decode()


# --- redaction -----------------------------------------------------------------------------

def test_a_redacted_passage_is_gone_from_every_public_place_at_once_and_from_every_table_after_the_purge(  # noqa: E501
        client, world):
    plate = "AB 12 345"
    report = reporter_report(f"Bilen {plate} holder altid på fortovet")
    run_once()  # the receipt and the department's mail carry the text
    assert places_holding(plate)  # the outbox, the timeline, the report
    redaction = moderation.report_redact_text(
        actor=world["caseworker"], report_id=report.pk, target="description", passage=plate,
        reason="Nummerplader vises ikke offentligt")

    public = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert plate not in json.dumps(public)
    assert f"Bilen {REMOVED} holder" in public["properties"]["description"]
    timeline = " ".join(e["text"] for e in public["timeline"])
    assert "Nummerplader vises ikke offentligt" in timeline
    assert plate not in client.get(f"/reports/{report.pk}/").content.decode()
    assert plate not in client.get(f"/open311/v2/requests/{report.pk}.json").content.decode()
    # Staff still read it, from the redaction only; the reporter is told why.
    assert places_holding(plate) == {"reports_redaction.original": 1}
    assert plate in staff_view(client, world["caseworker"], report)
    run_once()
    told = [m for m in mail.outbox if m.to == [EMAIL] and "fjernet" in m.subject.lower()]
    assert told and "Nummerplader vises ikke offentligt" in told[0].body

    moderation.redactions_purge(now=redaction.keep_until - dt.timedelta(seconds=1))
    assert places_holding(plate) == {"reports_redaction.original": 1}  # not yet
    assert moderation.redactions_purge(now=redaction.keep_until) == 1
    assert places_holding(plate) == {}
    assert plate not in staff_view(client, world["caseworker"], report)
    (log,) = DeletionLog.objects.filter(reason="redaction")
    assert log.report_id == report.pk and log.removed["text"] == 1


def test_a_redacted_photo_leaves_the_public_outputs_at_once_and_its_files_at_the_purge(
        client, world):
    report = reporter_report()
    (photo,) = report.photos.all()
    files = {photo.image, photo.thumbnail}
    redaction = moderation.report_redact_photo(
        actor=world["caseworker"], report_id=report.pk, photo_id=photo.pk,
        reason="Personer kan genkendes")
    public = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert public["properties"]["photos"] == []
    assert photo.url not in client.get(f"/reports/{report.pk}/").content.decode()
    assert files <= media_files()  # kept for staff meanwhile
    moderation.redactions_purge(now=redaction.keep_until)
    assert not files & media_files()
    assert not Photo.objects.filter(pk=photo.pk).exists()
    assert places_holding(photo.image) == {}


def test_a_redaction_must_name_a_passage_that_is_there_and_a_reason_and_stay_in_scope(world):
    report = reporter_report()
    with pytest.raises(InvalidInput) as caught:
        moderation.report_redact_text(actor=world["caseworker"], report_id=report.pk,
                                      target="description", passage="ikke her", reason="x")
    assert "passage" in caught.value.errors
    with pytest.raises(InvalidInput) as caught:
        moderation.report_redact_text(actor=world["caseworker"], report_id=report.pk,
                                      target="description", passage="asfalten", reason=" ")
    assert "reason" in caught.value.errors
    with pytest.raises(PermissionDenied):
        moderation.report_redact_text(actor=world["outsider"], report_id=report.pk,
                                      target="description", passage="asfalten", reason="x")
    assert Redaction.objects.count() == 0


def test_staff_redact_from_the_report_page_and_a_bad_passage_is_a_400_with_the_field(
        client, world):
    report = reporter_report("Naboen Jens Hansen smider affald her")
    client.force_login(world["caseworker"])
    url = f"/staff/reports/{report.pk}/redact/"
    bad = client.post(url, {"version": report.version, "where": "description",
                            "passage": "Ole", "reason": "Navn på tredjemand"})
    assert bad.status_code == 400 and "passage" in bad.content.decode()
    ok = client.post(url, {"version": report.version, "where": "description",
                           "passage": "Jens Hansen", "reason": "Navn på tredjemand"})
    assert ok.status_code == 302
    report.refresh_from_db()
    assert report.public_description == f"Naboen {REMOVED} smider affald her"


# --- retention -----------------------------------------------------------------------------

def _rules(world, **days) -> None:
    for status, (contact, photos) in days.items():
        RetentionRule.objects.create(municipality=world["ballerup"], status=status,
                                     contact_days=contact, photo_days=photos)


def test_the_retention_run_removes_contact_and_photos_of_old_closed_reports_and_leaves_nothing_behind(  # noqa: E501
        world):
    _rules(world, resolved=(365, 365), rejected=(30, None))
    old = reporter_report(f"Ring til mig på {PHONE}")
    services.report_follow(report_id=old.pk, email="nabo@example.dk")
    run_once()
    fresh = reporter_report()
    still_open = reporter_report()
    close(old, days_ago=400)
    close(fresh, days_ago=10)
    old_files = {p for photo in old.photos.all() for p in (photo.image, photo.thumbnail)}
    assert places_holding(EMAIL) and places_holding("nabo@example.dk")

    dry = retention.retention_run(dry_run=True)
    assert sum(dry.contact.values()) == 1 and sum(dry.photos.values()) == 1
    assert Report.objects.get(pk=old.pk).reporter_email == EMAIL  # a dry run changes nothing

    lines = housekeeping()
    assert any("contact data of 1 reports" in line for line in lines), lines
    old.refresh_from_db()
    assert (old.reporter_name, old.reporter_email, old.reporter_phone) == ("", "", "")
    assert old.status == "resolved" and old.category.code == "pothole"  # the statistics
    assert PHONE not in old.description and old.public_description == old.description
    assert not old_files & media_files() and not old.photos.exists()
    assert not Subscription.objects.filter(report=old).exists()
    # Everywhere else, the two reports that are not due keep theirs.
    held = places_holding(EMAIL)
    assert held.pop("reports_report.reporter_email") == 2
    assert set(held) <= {"reports_notification.recipient", "reports_notification.context",
                         "reports_notification.body_text", "reports_notification.body_html",
                         "reports_subscription.email"}
    assert all(n.report_id != old.pk for n in Notification.objects.filter(
        recipient=EMAIL))
    assert places_holding("nabo@example.dk") == {}
    assert set(places_holding("20 11 22 33")) == {"reports_report.reporter_phone",
                                                   "reports_notification.context"}
    assert fresh.photos.exists() and still_open.photos.exists()
    logs = DeletionLog.objects.filter(report_id=old.pk, reason="retention")
    assert {tuple(sorted(log.removed)) for log in logs} >= {("photos",)}
    contact_log = next(log for log in logs if "email" in log.removed)
    assert contact_log.removed["followers"] == 2 and "365 days" in contact_log.rule  # the
    # reporter (who follows their own report) and the neighbour
    assert EMAIL not in json.dumps(contact_log.removed) + contact_log.rule
    assert retention.retention_run().lines() == []  # done once


def test_reopening_stops_the_retention_clock(world):
    report = reporter_report()
    close(report, days_ago=400)
    services.report_transition(report_id=report.pk, to_status="acknowledged")
    report.refresh_from_db()
    assert report.closed_at is None
    _rules(world, resolved=(1, 1))
    assert retention.retention_run().lines() == []


# --- the data subject's rights -------------------------------------------------------------

def test_everything_about_an_address_is_exported_and_then_erased_from_every_table(client,
                                                                                world):
    filed = reporter_report()
    other = file_report(description="Væltet skilt")
    services.report_follow(report_id=other.pk, email=EMAIL)
    alert = services.alert_subscribe(email=EMAIL, location=Point(12.36, 55.73, srid=4326),
                                     radius_m=500)
    run_once()
    client.force_login(world["admin"])
    response = client.post("/staff/privacy/", {"subject": EMAIL.upper(), "do": "export"})
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    exported = json.loads(response.content)
    assert [r["id"] for r in exported["reports_filed"]] == [filed.pk]
    assert exported["reports_filed"][0]["reporter"]["phone"] == PHONE
    # Their own report (a reporter follows it) and the one they chose to follow.
    assert [f["report"] for f in exported["follows"]] == [filed.pk, other.pk]
    assert [a["id"] for a in exported["alerts"]] == [alert.pk]
    assert any(m["event"] == "follower.confirm" for m in exported["mails"])

    refused = client.post("/staff/privacy/", {"subject": EMAIL, "do": "erase"})
    assert refused.status_code == 400  # not confirmed
    assert Report.objects.get(pk=filed.pk).reporter_email == EMAIL
    erased = client.post("/staff/privacy/", {"subject": EMAIL, "do": "erase",
                                             "confirm": "on"})
    assert erased.status_code == 302
    assert places_holding(EMAIL) == {}
    assert places_holding(NAME) == {}
    assert places_holding("20 11 22 33") == {}
    assert not AreaAlert.objects.filter(pk=alert.pk).exists()
    logs = DeletionLog.objects.filter(reason="erasure")
    assert {log.report_id for log in logs} == {filed.pk, other.pk, None}
    page = client.get("/staff/privacy/").content.decode()
    assert f"#{filed.pk}</td>" in page and "Sletning efter anmodning" in page
    assert logs[0].subject_hash == data_subjects.subject_parse(EMAIL).hash


def test_a_phone_number_is_found_however_it_was_spaced(world):
    reporter_report()
    admin = world["admin"]
    exported = data_subjects.subject_export(actor=admin, value="20112233")
    assert len(exported["reports_filed"]) == 1
    data_subjects.subject_erase(actor=admin, value="0045 2011 2233")
    assert places_holding("20 11 22 33") == {}


def test_only_a_municipality_admin_sees_a_subject_and_only_in_their_municipality(client,
                                                                              world):
    reporter_report()
    with pytest.raises(PermissionDenied):
        data_subjects.subject_export(actor=world["caseworker"], value=EMAIL)
    client.force_login(world["caseworker"])
    assert client.get("/staff/privacy/").status_code == 403
    other_admin = world["admin"].__class__.objects.create(username="kbh-admin")
    from reports.models import StaffMembership

    StaffMembership.objects.create(user=other_admin, municipality=world["copenhagen"],
                                   role="municipality_admin")
    assert data_subjects.subject_export(actor=other_admin, value=EMAIL)["reports_filed"] == []
    with pytest.raises(InvalidInput):
        data_subjects.subject_parse("ikke en adresse")
