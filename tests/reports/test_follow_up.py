"""After the fix: the follow-up mail some time after resolution (to the reporter and to
followers who asked), the one-time page, "not fixed" back in the department's queue, staff
reopening or declining with a public reason, and the figures on the statistics page and in
the CSV export."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from django.core import mail
from django.utils import timezone

from reports import services
from reports.models import FollowUp, Municipality, ReopenRequest, Report, Subscription
from reports.notifications.worker import housekeeping, run_once
from reports.services import followup
from tests.reports.factories import file_report
from tests.reports.notifications.helpers import link_in
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db

EMAIL = "mette@example.dk"


@pytest.fixture
def world():
    world = staff_world()
    Municipality.objects.filter(pk=world["ballerup"].pk).update(follow_up_days=14)
    return world


def resolved_report(days_ago: int, *, language: str = "da") -> Report:
    report = file_report(reporter=services.Reporter(name="Mette", email=EMAIL),
                         language=language)
    services.report_transition(report_id=report.pk, to_status="resolved",
                               public_text="Hullet er lappet.",
                               at=timezone.now() - dt.timedelta(days=days_ago))
    return report


def follow_up_link(to: str) -> str:
    run_once()
    (message,) = [m for m in mail.outbox if m.to == [to] and "/follow-up/" in m.body]
    return link_in(message.body, "/follow-up/")


def test_the_reporter_is_asked_once_after_the_municipalitys_days_and_not_fixed_reopens(
        client, world):
    too_soon = resolved_report(days_ago=10)
    due = resolved_report(days_ago=15)
    ancient = resolved_report(days_ago=400)  # resolved long before follow-ups were on
    follower = Subscription.objects.create(report=due, email="nabo@example.dk",
                                           confirmed_at=timezone.now(), follow_up=True)
    Subscription.objects.create(report=due, email="stille@example.dk",
                                confirmed_at=timezone.now())  # did not ask
    assert any("sent 2 follow-ups" in line for line in housekeeping())
    assert not any("follow-ups" in line for line in housekeeping())  # once
    assert set(FollowUp.objects.values_list("report_id", "email")) == {
        (due.pk, EMAIL), (due.pk, follower.email)}
    assert not FollowUp.objects.filter(report__in=[too_soon, ancient]).exists()

    path = follow_up_link(EMAIL)
    page = client.get(path)
    assert page.status_code == 200 and "Blev problemet" in page.content.decode()
    refused = client.post(path, {"satisfaction": "2"})
    assert refused.status_code == 400  # fixed or not must be said
    answered = client.post(path, {"fixed": "no", "satisfaction": "2",
                                  "comment": "Hullet er der stadig"})
    assert answered.status_code == 200
    assert client.post(path, {"fixed": "yes"}).status_code == 409  # once
    (request,) = ReopenRequest.objects.filter(report=due)
    assert request.state == "open"

    # Back in the department's queue (which lists open reports), with the reporter's words.
    client.force_login(world["caseworker"])
    queue = client.get("/staff/?status=submitted&status=acknowledged&status=in_progress")
    assert f'/staff/reports/{due.pk}/' in queue.content.decode()
    detail = client.get(f"/staff/reports/{due.pk}/").content.decode()
    assert "Hullet er der stadig" in detail and "form-reopen-accept" in detail
    due.refresh_from_db()
    done = client.post(f"/staff/reports/{due.pk}/reopen-accept/",
                       {"version": due.version, "request": request.pk})
    assert done.status_code == 302
    due.refresh_from_db()
    request.refresh_from_db()
    assert due.status == "in_progress" and request.state == "accepted"
    assert due.closed_at is None


def test_staff_can_decline_a_reopen_with_a_public_reason(client, world):
    report = resolved_report(days_ago=15)
    followup.follow_ups_send()
    (follow_up,) = FollowUp.objects.filter(report=report)
    from reports.notifications import links

    followup.follow_up_answer(token=links.token("follow-up", follow_up.pk), fixed=False,
                              satisfaction=1)
    request = ReopenRequest.objects.get(report=report)
    with pytest.raises(Exception) as caught:
        followup.reopen_decline(actor=world["caseworker"], report_id=report.pk,
                                request_id=request.pk, reason=" ")
    assert "reason" in caught.value.errors
    followup.reopen_decline(actor=world["caseworker"], report_id=report.pk,
                            request_id=request.pk,
                            reason="Det er en privat fællesvej; grundejerne vedligeholder den.")
    public = client.get(f"/api/v1/reports/{report.pk}/").json()
    assert public["properties"]["status"] == "resolved"
    assert "privat fællesvej" in public["timeline"][-1]["text"]
    run_once()
    assert any("privat fællesvej" in m.body for m in mail.outbox if m.to == [EMAIL])


def test_the_page_speaks_the_reporters_language(client, world):
    report = resolved_report(days_ago=15, language="sv")
    followup.follow_ups_send()
    path = follow_up_link(EMAIL)
    assert "Blev problemet" not in client.get(path).content.decode()
    assert "åtgärdat" in client.get(path).content.decode()
    assert FollowUp.objects.get(report=report).language == "sv"


def test_satisfaction_and_reopen_rate_per_department_on_the_statistics_page_and_in_the_csv(
        client, world):
    from reports.notifications import links

    first, second = resolved_report(days_ago=15), resolved_report(days_ago=15)
    followup.follow_ups_send()
    for report, fixed, score in ((first, True, 5), (second, False, 2)):
        follow_up = FollowUp.objects.get(report=report)
        followup.follow_up_answer(token=links.token("follow-up", follow_up.pk), fixed=fixed,
                                  satisfaction=score)
    client.force_login(world["caseworker"])
    since = (timezone.now() - dt.timedelta(days=30)).date().isoformat()
    page = client.get(f"/staff/stats/?since={since}").content.decode()
    table = page[page.index('id="follow-up-by-department"'):]
    start = table.index("Vej og Park")
    row = table[start:table.index("</tr>", start)]
    assert [cell.split(">")[-1] for cell in row.split("</td>")[:-1]] == [
        "2", "2", "100 %", "3,5", "1 (50 %)"]
    rows = list(csv.DictReader(io.StringIO(
        client.get("/staff/export.csv").getvalue().decode().lstrip("\ufeff"))))
    by_id = {int(r["id"]): r for r in rows}
    assert by_id[first.pk]["follow_up_fixed"] == "True"
    assert by_id[second.pk]["follow_up_satisfaction"] == "2.0"
    assert by_id[second.pk]["reopen_requested"] == "True"
