"""Confirmation and hiding are separate facts; "public" is one definition (confirmed and not
hidden) that every public output uses. Staff can act on a report whatever its state."""

from __future__ import annotations

import pytest
from django.contrib.gis.geos import Point

from reports import services
from reports.models import Notification, Report, ReportEvent, Subscription, Webhook
from reports.notifications import links
from reports.staff import triage
from tests.reports.factories import BALLERUP_TOWN, file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = staff_world()
    world["ballerup"].confirm_anonymous_reports = True
    world["ballerup"].save()
    Webhook.objects.create(municipality=world["ballerup"], url="https://backoffice.example/hook",
                           secret="s")
    return world


def web_report(description: str = "Hul ved skolen") -> Report:
    return file_report(source=Report.Source.WEB, description=description,
                       reporter=services.Reporter(email="borger@example.dk"))


def confirm_token(report: Report) -> str:
    return links.token("report-confirm", report.pk)


def announced(report: Report) -> int:
    """How many times the report was announced: department mails for it."""
    return Notification.objects.filter(report=report, event="department.new_report").count()


def test_a_replayed_confirmation_link_never_republishes_a_hidden_report(world,
                                                                       django_capture_on_commit_callbacks):
    report = web_report()
    token = confirm_token(report)
    assert not report.public
    first = services.report_confirm(token=token)
    assert first.first and first.report.public and announced(report) == 1
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Krænkende")
    outbox = Notification.objects.count()
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        again = services.report_confirm(token=token)
    assert not again.first
    report.refresh_from_db()
    assert report.hidden and not report.public
    assert Notification.objects.count() == outbox  # no mails, alerts or webhooks again
    assert callbacks == []  # no live event either


def test_unhiding_a_report_that_was_never_confirmed_does_not_publish_it(world):
    report = web_report()
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Spam?")
    triage.report_unhide(actor=world["caseworker"], report_id=report.pk)
    report.refresh_from_db()
    assert not report.hidden and not report.public and announced(report) == 0
    services.report_confirm(token=confirm_token(report))  # the reporter confirms later
    report.refresh_from_db()
    assert report.public and announced(report) == 1


def test_a_report_confirmed_while_hidden_is_announced_once_when_shown(world):
    report = web_report()
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Tjekkes")
    services.report_confirm(token=confirm_token(report))
    report.refresh_from_db()
    assert report.confirmed_at is not None and not report.public and announced(report) == 0
    triage.report_unhide(actor=world["caseworker"], report_id=report.pk)
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Igen")
    triage.report_unhide(actor=world["caseworker"], report_id=report.pk)
    report.refresh_from_db()
    assert report.public and announced(report) == 1


@pytest.mark.parametrize("state", ["hidden", "unconfirmed"])
def test_staff_can_act_on_a_report_that_is_not_public(world, state):
    """Measured on db7da57: with a webhook, report_hide then report_set_status raised
    TypeError in notify._webhooks and rolled back."""
    staff = world["caseworker"]
    if state == "hidden":
        report = file_report(reporter=services.Reporter(email="borger@example.dk"))
        Subscription.objects.create(report=report, email="nabo@example.dk",
                                    confirmed_at=report.created_at)
        triage.report_hide(actor=staff, report_id=report.pk, reason="Personlige oplysninger")
    else:
        report = web_report()
    followers_before = Notification.objects.filter(event="follower.update").count()
    triage.report_set_status(actor=staff, report_id=report.pk, to_status="acknowledged",
                             public_text="Vi kigger på det")
    triage.report_reply(actor=staff, report_id=report.pk, text="Mere snart")
    triage.report_reroute(actor=staff, report_id=report.pk, department_id=world["maaloev"].pk)
    report.refresh_from_db()
    assert report.status == "acknowledged" and report.department == world["maaloev"]
    hook = Notification.objects.filter(report=report, channel="webhook").order_by("-id").first()
    assert hook.payload["public"] is False and hook.payload["report"] is None
    assert hook.payload["status"] == "acknowledged"
    # Followers hear nothing of a report the public cannot see.
    assert Notification.objects.filter(event="follower.update").count() == followers_before


def test_following_a_report_that_is_not_public_is_refused(world, client):
    report = file_report()
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Spam")
    response = client.post(f"/api/v1/reports/{report.pk}/follow/", {"email": "x@example.dk"},
                           content_type="application/json")
    assert response.status_code == 404
    assert not Subscription.objects.filter(report=report).exists()


def test_every_write_bumps_the_version_and_writes_one_timeline_row(world):
    staff = world["caseworker"]
    report = web_report()
    steps = [
        lambda: services.report_confirm(token=confirm_token(report)),
        lambda: triage.report_reply(actor=staff, report_id=report.pk, text="Tak"),
        lambda: triage.report_set_status(actor=staff, report_id=report.pk,
                                         to_status="acknowledged"),
        lambda: triage.report_hide(actor=staff, report_id=report.pk, reason="Navne"),
        lambda: triage.report_unhide(actor=staff, report_id=report.pk),
        lambda: triage.report_assign(actor=staff, report_id=report.pk, assignee_id=staff.pk),
        lambda: triage.report_set_priority(actor=staff, report_id=report.pk, priority="high"),
        lambda: triage.report_move(actor=staff, report_id=report.pk,
                                   location=Point(BALLERUP_TOWN[0] + 0.001, BALLERUP_TOWN[1])),
    ]
    for step in steps:
        before = Report.objects.get(pk=report.pk).version
        rows = ReportEvent.objects.filter(report=report).count()
        step()
        assert Report.objects.get(pk=report.pk).version == before + 1
        assert ReportEvent.objects.filter(report=report).count() == rows + 1


def test_hiding_records_who_and_when(world):
    report = file_report()
    triage.report_hide(actor=world["caseworker"], report_id=report.pk, reason="Navne")
    report.refresh_from_db()
    assert report.hidden_by == world["caseworker"] and report.hidden_at is not None
    assert report.confirmed_at is not None  # hiding does not touch confirmation


def test_merge_targets_must_be_public_and_in_the_users_departments(world):
    from geoservice.errors import InvalidInput

    staff = world["caseworker"]
    duplicate = file_report(description="Samme hul")
    hidden = file_report(description="Skjult original")
    triage.report_hide(actor=staff, report_id=hidden.pk, reason="Spam")
    other_department = file_report(category="playground", description="Legeplads")  # nature
    for target in (hidden, other_department):
        with pytest.raises(InvalidInput):
            triage.report_merge(actor=staff, report_id=duplicate.pk, into_id=target.pk)
    from reports.staff.selectors import duplicate_candidates

    candidates = {r.pk for r in duplicate_candidates(duplicate, staff, radius_m=5000)}
    assert hidden.pk not in candidates and other_department.pk not in candidates


@pytest.mark.parametrize("kind,path", [
    ("report-confirm", "/reports/confirm/"), ("follow-confirm", "/subscriptions/confirm/"),
    ("follow-unsubscribe", "/subscriptions/unsubscribe/"),
    ("alert-confirm", "/alerts/confirm/"), ("alert-unsubscribe", "/alerts/unsubscribe/")])
def test_mail_links_act_on_post_only(world, client, kind, path):
    """Mail scanners and link previews fetch links: a GET shows a button and changes
    nothing; the button (a POST) acts."""
    from reports.models import AreaAlert

    report = web_report()
    follow = Subscription.objects.create(report=report, email="nabo@example.dk")
    alert = AreaAlert.objects.create(email="nabo@example.dk", location=Point(*BALLERUP_TOWN),
                                     radius_m=200)
    target = {"report-confirm": report, "alert-confirm": alert, "alert-unsubscribe": alert,
              "follow-confirm": follow, "follow-unsubscribe": follow}[kind]
    link = path + links.token(kind, target.pk)

    def state():
        return (Report.objects.get(pk=report.pk).confirmed_at,
                list(Subscription.objects.values_list("pk", "confirmed_at")),
                list(AreaAlert.objects.values_list("pk", "confirmed_at")))

    before = state()
    page = client.get(link)
    assert page.status_code == 200 and '<form method="post">' in page.content.decode()
    assert state() == before
    assert client.post(link).status_code == 200
    assert state() != before


def test_the_confirmation_page_says_so_when_the_link_was_used_before(world, client):
    report = web_report()
    link = f"/reports/confirm/{confirm_token(report)}"
    first = client.post(link).content.decode()
    second = client.post(link).content.decode()
    assert "Tak" in first and "allerede" in second
    assert announced(report) == 1
