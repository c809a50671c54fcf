"""The staff dashboard through HTTP: login and throttling, the scoped queue, every action's
route, version conflicts, statistics and the streamed CSV export."""

from __future__ import annotations

import csv
import io
import re
import tracemalloc

import pytest
from django.db import connection

from reports import services
from reports.models import Report
from reports.staff import triage
from tests.reports.factories import PASSWORD, UserFactory, file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db

ACTION_POSTS = {
    "status": {"status": "acknowledged"},
    "merge": {"into_other": "1"},
    "reroute": {"department": "1"},
    "category": {"category": "playground"},
    "move": {"lon": "12.36", "lat": "55.73"},
    "assign": {"assignee": ""},
    "priority": {"priority": "high"},
    "reply": {"text": "Hej"},
    "note": {"text": "Internt"},
    "hide": {"reason": "Test"},
    "unhide": {},
}


@pytest.fixture
def world():
    return staff_world()


@pytest.fixture
def client(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"  # the assertions read English text
    return client


def login(client, user):
    client.force_login(user)
    return client


def queue_ids(response) -> set[int]:
    return {int(i) for i in re.findall(r'<tr id="report-(\d+)"', response.content.decode())}


def test_anonymous_users_are_sent_to_login_and_change_nothing(client, world):
    report = file_report()
    for path in ("/staff/", f"/staff/reports/{report.pk}/", "/staff/stats/",
                 "/staff/export.csv", f"/staff/reports/{report.pk}/row"):
        response = client.get(path)
        assert response.status_code == 302 and response["Location"].startswith("/staff/login/")
    response = client.post(f"/staff/reports/{report.pk}/status/",
                           {"status": "acknowledged", "version": 1})
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).version == 1


def test_login_works_and_repeated_failures_are_throttled(client, world):
    response = client.post("/staff/login/", {"username": "vej", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    client.post("/staff/logout/")
    for _ in range(5):
        failed = client.post("/staff/login/", {"username": "vej", "password": "wrong"})
        assert failed.status_code == 200
    refused = client.post("/staff/login/", {"username": "vej", "password": PASSWORD})
    assert refused.status_code == 200
    assert "Too many failed logins" in refused.content.decode()
    assert "_auth_user_id" not in client.session


def test_a_user_without_departments_gets_403(client, world):
    nobody = UserFactory(username="nobody")
    assert login(client, nobody).get("/staff/").status_code == 403


def test_queue_shows_only_the_users_departments(client, world):
    roads = file_report()
    nature = file_report(category="playground")
    copenhagen = file_report(lon_lat=(12.57, 55.68))
    assert queue_ids(login(client, world["caseworker"]).get("/staff/")) == {roads.pk}
    assert queue_ids(login(client, world["outsider"]).get("/staff/")) == {nature.pk}
    assert queue_ids(login(client, world["admin"]).get("/staff/")) == {roads.pk, nature.pk}
    assert queue_ids(login(client, world["cph_worker"]).get("/staff/")) == {copenhagen.pk}


def test_queue_filters_search_and_overdue(client, world):
    old = file_report(description="Gammelt hul")
    new = file_report(description="Nyt hul ved skolen")
    Report.objects.filter(pk=old.pk).update(expected_at=old.created_at.replace(year=2020))
    login(client, world["caseworker"])
    assert queue_ids(client.get("/staff/?overdue=on")) == {old.pk}
    assert queue_ids(client.get("/staff/?q=skolen")) == {new.pk}
    assert queue_ids(client.get(f"/staff/?q=%23{old.pk}")) == {old.pk}
    assert queue_ids(client.get("/staff/?kle=04")) == set()
    assert queue_ids(client.get("/staff/?kle=05.01")) == {old.pk, new.pk}
    triage.report_assign(actor=world["caseworker"], report_id=new.pk,
                         assignee_id=world["caseworker"].pk)
    assert queue_ids(client.get("/staff/?mine=on")) == {new.pk}
    page = client.get("/staff/?sort=due").content.decode()
    assert page.index(f'id="report-{old.pk}"') < page.index(f'id="report-{new.pk}"')
    rows = client.get("/staff/").content.decode()
    assert re.search(rf'<tr id="report-{old.pk}"[^>]*class="overdue', rows)
    assert not re.search(rf'<tr id="report-{new.pk}"[^>]*class="overdue', rows)


@pytest.mark.parametrize("action", sorted(ACTION_POSTS))
def test_every_action_route_is_404_for_another_department(client, world, action):
    report = file_report()
    login(client, world["outsider"])
    response = client.post(f"/staff/reports/{report.pk}/{action}/",
                           {**ACTION_POSTS[action], "version": 1})
    assert response.status_code == 404
    assert Report.objects.get(pk=report.pk).version == 1


@pytest.mark.parametrize("user", ["outsider", "cph_worker"])
def test_reading_routes_are_404_for_another_department_or_municipality(client, world, user):
    report = file_report()
    login(client, world[user])
    assert client.get(f"/staff/reports/{report.pk}/").status_code == 404
    assert client.get(f"/staff/reports/{report.pk}/row").status_code == 404
    rows = list(csv.reader(io.StringIO(
        b"".join(client.get("/staff/export.csv").streaming_content).decode("utf-8-sig"))))
    assert str(report.pk) not in [row[0] for row in rows[1:]]
    stats = client.get("/staff/stats/").content.decode()
    assert "0 reports filed in the period" in stats
    response = client.post("/staff/bulk/", {"action": "status", "reports": str(report.pk),
                                            "status": "acknowledged"})
    assert response.status_code == 302
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_triage_from_new_to_resolved_through_the_pages(client, world):
    report = file_report(reporter=services.Reporter(email="borger@example.dk"))
    login(client, world["caseworker"])
    page = client.get(f"/staff/reports/{report.pk}/").content.decode()
    assert "borger@example.dk" in page and "rule #" in page  # contact and routing for staff
    for data in ({"status": "acknowledged", "version": 1},
                 {"status": "in_progress", "version": 2},
                 {"status": "resolved", "public_text": "Hullet er lappet", "version": 3}):
        response = client.post(f"/staff/reports/{report.pk}/status/", data)
        assert response.status_code == 302, response.content.decode()[:500]
    report.refresh_from_db()
    assert (report.status, report.version) == ("resolved", 4)
    assert "Hullet er lappet" in client.get(f"/reports/{report.pk}").content.decode()


def test_resolving_without_a_public_reply_is_400_with_the_field(client, world):
    report = file_report()
    response = login(client, world["caseworker"]).post(
        f"/staff/reports/{report.pk}/status/", {"status": "resolved", "version": 1})
    assert response.status_code == 400
    assert "public_text" in response.content.decode()
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_a_stale_version_gets_409_with_the_fresh_state_and_changes_nothing(client, world):
    report = file_report()
    triage.report_reply(actor=world["colleague"], report_id=report.pk, text="Vi kigger på det")
    response = login(client, world["caseworker"]).post(
        f"/staff/reports/{report.pk}/status/", {"status": "rejected", "public_text": "Nej",
                                               "version": 1})
    assert response.status_code == 409
    page = response.content.decode()
    assert "Someone else changed this report" in page
    assert '<dd id="report-version">2</dd>' in page and "Vi kigger på det" in page
    assert Report.objects.get(pk=report.pk).status == "submitted"


def test_merge_and_bulk_through_the_pages(client, world):
    original = file_report()
    duplicate = file_report(reporter=services.Reporter(email="dup@example.dk"))
    others = [file_report().pk for _ in range(2)]
    login(client, world["caseworker"])
    detail = client.get(f"/staff/reports/{duplicate.pk}/").content.decode()
    assert f'value="{original.pk}"' in detail  # offered as a nearby candidate
    response = client.post(f"/staff/reports/{duplicate.pk}/merge/",
                           {"into": original.pk, "version": 1})
    assert response.status_code == 302
    assert Report.objects.get(pk=duplicate.pk).duplicate_of_id == original.pk
    response = client.post("/staff/bulk/", {
        "action": "assign", "reports": ",".join(map(str, others)),
        "assignee": world["colleague"].pk}, follow=True)
    assert "Done for 2 report(s)" in response.content.decode()
    assert set(Report.objects.filter(pk__in=others).values_list("assigned_to", flat=True)) == {
        world["colleague"].pk}


def test_statistics_count_and_time_to_acknowledge(client, world):
    first, second = file_report(), file_report()
    triage.report_set_status(actor=world["caseworker"], report_id=first.pk,
                             to_status="acknowledged")
    triage.report_set_status(actor=world["caseworker"], report_id=second.pk,
                             to_status="resolved", public_text="Klaret")
    page = login(client, world["caseworker"]).get("/staff/stats/").content.decode()
    assert "2 reports filed in the period" in page
    by_status = re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', page)
    assert ("Acknowledged", "1") in by_status and ("Resolved", "1") in by_status
    assert re.search(r"Median time to resolve</dt><dd>0[.,]0 hours", page)


def test_csv_export_of_100000_reports_streams_in_bounded_memory(client, world):
    roads = world["roads"]
    with connection.cursor() as cursor:
        cursor.execute("""
            INSERT INTO reports_report (municipality_id, category_id, department_id, location,
              address, description, public_description, answers, status, needs_triage,
              routing_explanation, reporter_name, reporter_email, reporter_phone, source,
              token, device_id, account_id, media_url, version, created_at, updated_at,
              confirmed_at, hidden, hidden_reason, priority, language)
            SELECT %s, c.id, %s, ST_SetSRID(ST_MakePoint(12.36, 55.73), 4326), 'Vej ' || g,
              'Hul nummer ' || g, 'Hul nummer ' || g, '{}', 'submitted', false, '', 'Navn',
              'a@example.dk', '', 'api', gen_random_uuid(), '', '', '', 1, now(), now(),
              now(), false, '', 'normal', 'da'
            FROM generate_series(1, 100000) g,
                 (SELECT id FROM reports_category WHERE code = 'pothole' AND municipality_id = %s) c
        """, [roads.municipality_id, roads.pk, roads.municipality_id])
    response = login(client, world["caseworker"]).get("/staff/export.csv?status=submitted")
    assert response.streaming
    tracemalloc.start()
    lines = 0
    size = 0
    for chunk in response.streaming_content:
        lines += chunk.count(b"\n")
        size += len(chunk)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(f"CSV: {size / 1e6:.1f} MB streamed, peak Python memory {peak / 1e6:.2f} MB")
    assert lines == 100_001  # the header and every report
    assert size > 8_000_000
    assert peak < 8 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.1f} MB"


def test_password_reset_by_mail(client, world):
    from django.core import mail

    assert client.get("/staff/password_reset/").status_code == 200
    response = client.post("/staff/password_reset/", {"email": "vej@example.dk"})
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    link = re.search(r"https?://\S+/staff/reset/\S+/", mail.outbox[0].body).group(0)
    path = link.split("testserver")[-1] if "testserver" in link else "/" + link.split("/", 3)[3]
    form = client.get(path, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": "Nyt-kodeord-2026",
                                                    "new_password2": "Nyt-kodeord-2026"})
    assert done.status_code == 302
    assert client.login(username="vej", password="Nyt-kodeord-2026")


# --- findings of the security review (each failed on db7da57) ------------------------------

def test_csv_export_neutralises_cells_a_spreadsheet_would_run_as_formulas(client, world):
    file_report(description='=HYPERLINK("https://evil.example","Klik")',
                address="+45 ring", reporter=services.Reporter(name="@admin"))
    response = login(client, world["caseworker"]).get("/staff/export.csv")
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [cell for row in rows[1:] for cell in row]
    assert "'=HYPERLINK(\"https://evil.example\",\"Klik\")" in cells
    assert "'@admin" in cells and "'+45 ring" in cells
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in cells)


@pytest.mark.parametrize("target", ["https://evil.example/phish", "//evil.example/x",
                                    "http://testserver.evil.example/"])
def test_bulk_actions_never_redirect_off_the_site(client, world, target):
    report = file_report()
    response = login(client, world["caseworker"]).post("/staff/bulk/", {
        "action": "status", "status": "acknowledged", "reports": str(report.pk),
        "next": target})
    assert response.status_code == 302 and response["Location"] == "/staff/"
    local = login(client, world["caseworker"]).post("/staff/bulk/", {
        "action": "status", "status": "in_progress", "reports": str(report.pk),
        "next": "/staff/?sort=oldest"})
    assert local["Location"] == "/staff/?sort=oldest"


def test_changes_since_lists_the_users_reports_page_by_page(client, world, monkeypatch):
    """What a queue fetches after live events may have been lost (docs/live.md)."""
    import datetime as dt

    from django.utils import timezone

    from frontend.staff import views as staff_views

    monkeypatch.setattr(staff_views, "CHANGES_PAGE", 2)
    before = (timezone.now() - dt.timedelta(seconds=1)).isoformat()
    ours = [file_report(description=f"Nr. {i}") for i in range(5)]
    theirs = file_report(category="playground", description="Natur")  # another department
    login(client, world["caseworker"])
    url, seen, pages = f"/staff/changes?updated_after={before.replace('+', '%2B')}", [], 0
    while url:
        data = client.get(url).json()
        seen += [(r["id"], r["new"]) for r in data["reports"]]
        url, pages = data["next"], pages + 1
    assert seen == [(r.pk, True) for r in ours] and pages == 3
    assert theirs.pk not in {i for i, _ in seen}
    assert client.get("/staff/changes?updated_after=yesterday").status_code == 400
