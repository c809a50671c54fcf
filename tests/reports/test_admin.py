import pytest
from django.contrib.auth import get_user_model

from reports.models import ApiKey, Report
from tests.reports.factories import (
    CategoryFactory,
    RoutingRuleFactory,
    file_report,
    served_municipality,
)


@pytest.fixture
def admin_client(client, db):
    user = get_user_model().objects.create_superuser("root", "root@example.dk", "pw")
    client.force_login(user)
    return client


def test_status_actions_go_through_the_lifecycle(admin_client):
    municipality = served_municipality()
    CategoryFactory(municipality=municipality)
    RoutingRuleFactory(municipality=municipality)
    report = file_report()
    response = admin_client.post("/admin/reports/report/", {
        "action": "mark_resolved", "_selected_action": [report.pk]}, follow=True)
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.status == "resolved" and report.version == 2
    event = report.events.last()
    assert (event.from_status, event.to_status, event.actor.username) == (
        "submitted", "resolved", "root")
    admin_client.post("/admin/reports/report/", {
        "action": "mark_in_progress", "_selected_action": [report.pk]}, follow=True)
    assert Report.objects.get(pk=report.pk).status == "resolved"  # not allowed, unchanged


def test_issuing_a_key_shows_it_once_and_stores_a_hash(admin_client):
    from reports.models import ApiClient

    client_row = ApiClient.objects.create(name="App")
    response = admin_client.post("/admin/reports/apiclient/", {
        "action": "issue_key", "_selected_action": [client_row.pk]}, follow=True)
    text = response.content.decode()
    key = ApiKey.objects.get()
    assert f"os2geo_{key.prefix}_" in text
    secret = text.split(f"os2geo_{key.prefix}_")[1].split("<")[0].split()[0]
    assert secret not in key.secret_hash
    page = admin_client.get(f"/admin/reports/apiclient/{client_row.pk}/change/").content
    assert secret.encode() not in page
