"""Durable notifications: enqueued with the change, delivered by the worker with retries."""

from __future__ import annotations

import datetime as dt
import json
import socket

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from reports import services
from reports.models import Notification, Webhook
from reports.notifications.outbox import verify
from reports.notifications.worker import backoff, notification_retry, run_once
from tests.reports.factories import (
    DepartmentFactory,
    file_report,
)
from tests.reports.notifications.helpers import link_in, webhook_receiver
from tests.reports.worlds import roads_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return roads_world()


def reporter():
    return services.Reporter(name="Mette", email="mette@example.dk", phone="+45 20112233")


def due_now():
    Notification.objects.update(next_attempt_at=timezone.now())


def test_filing_enqueues_department_mail_and_receipt_in_the_same_transaction(world):
    with pytest.raises(RuntimeError), transaction.atomic():
        file_report(reporter=reporter())
        assert Notification.objects.count() == 2
        raise RuntimeError("roll back")
    assert Notification.objects.count() == 0
    report = file_report(reporter=reporter())
    rows = {n.event: n for n in Notification.objects.all()}
    assert set(rows) == {"department.new_report", "reporter.receipt"}
    assert rows["department.new_report"].recipient == "vej@ballerup.example.dk"
    assert rows["reporter.receipt"].recipient == "mette@example.dk"
    assert all(n.state == "pending" and n.report == report for n in rows.values())


def test_worker_sends_html_and_text_mail_with_links(world):
    report = file_report(reporter=reporter(), description="Dybt hul ved skolen")
    assert run_once() == (2, 0)
    by_to = {m.to[0]: m for m in mail.outbox}
    department = by_to["vej@ballerup.example.dk"]
    assert f"#{report.pk}" in department.subject
    assert "Dybt hul ved skolen" in department.body and "mette@example.dk" in department.body
    assert f"/admin/reports/report/{report.pk}/change/" in department.body
    assert "openstreetmap.org" in department.body
    html, mimetype = department.alternatives[0]
    assert mimetype == "text/html" and "Dybt hul ved skolen" in html
    receipt = by_to["mette@example.dk"]
    assert f"/reports/{report.pk}" in receipt.body
    assert "vej@ballerup" not in receipt.body  # the receipt shows no staff data
    assert set(Notification.objects.values_list("state", flat=True)) == {"sent"}
    assert run_once() == (0, 0)  # nothing twice


def test_status_change_mails_the_reporter_with_masked_text(world):
    report = file_report(reporter=reporter())
    run_once()
    mail.outbox.clear()
    services.report_transition(report_id=report.pk, to_status="resolved",
                               public_text="Løst. Tak 010190-1234.")
    run_once()
    (update,) = mail.outbox
    assert update.to == ["mette@example.dk"] and "Løst." in update.body
    assert "010190-1234" not in update.body


def test_smtp_refusing_is_retried_with_backoff_and_nothing_is_lost(world, settings):
    with socket.socket() as probe:  # a port where nothing listens: connection refused
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": closed_port,
                                                "timeout": 2, "use_tls": False}}}
    file_report(reporter=reporter())
    assert run_once() == (0, 2)
    rows = list(Notification.objects.all())
    assert all(r.state == "pending" and r.attempts == 1 for r in rows)
    assert all("ConnectionRefused" in r.last_error for r in rows)
    assert all(r.next_attempt_at > timezone.now() + dt.timedelta(seconds=20) for r in rows)
    assert run_once() == (0, 0)  # not due yet
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    due_now()
    assert run_once() == (2, 0)
    assert len(mail.outbox) == 2
    assert set(Notification.objects.values_list("attempts", flat=True)) == {2}


def test_backoff_doubles_and_gives_up_after_max_attempts(world, settings):
    settings.NOTIFY_MAX_ATTEMPTS = 2
    assert [backoff(n).total_seconds() for n in (1, 2, 3)] == [30, 60, 120]
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.smtp.EmailBackend",
                                    "OPTIONS": {"host": "127.0.0.1", "port": 9, "timeout": 1,
                                                "use_tls": False}}}
    file_report(reporter=reporter())
    run_once()
    due_now()
    run_once()
    assert set(Notification.objects.values_list("state", flat=True)) == {"dead"}
    assert notification_retry(notification_ids=list(
        Notification.objects.values_list("id", flat=True))) == 2
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
    assert run_once() == (2, 0)


def test_signed_webhooks_with_retries_until_the_receiver_recovers(world, settings):
    settings.WEBHOOK_TIMEOUT_SECONDS = 1
    with webhook_receiver([500, ("hang", 3)]) as (url, received):
        Webhook.objects.create(municipality=world["municipality"], url=url, secret="s3cret",
                               event_types=["report.created", "report.updated"])
        report = file_report(reporter=reporter())
        hook = Notification.objects.get(channel="webhook")
        assert run_once() == (2, 1)                      # two mails sent, the hook got a 500
        hook.refresh_from_db()
        assert (hook.state, hook.last_response_code, hook.last_error) == ("pending", 500,
                                                                          "HTTP 500")
        due_now()
        assert run_once() == (0, 1)                      # the receiver hangs past the timeout
        hook.refresh_from_db()
        assert "no complete answer within" in hook.last_error.lower() and hook.attempts == 2
        due_now()
        assert run_once() == (1, 0)
        hook.refresh_from_db()
        assert (hook.state, hook.last_response_code) == ("sent", 200)
    request = received[-1]
    body = request["body"]
    payload = json.loads(body)
    assert payload["event"] == "report.created" and payload["report_id"] == report.pk
    assert payload["report"]["properties"]["status"] == "submitted"
    assert "mette" not in body.decode().lower()
    headers = {k.lower(): v for k, v in request["headers"].items()}
    assert verify("s3cret", headers["x-os2geo-timestamp"], body, headers["x-os2geo-signature"])
    assert not verify("wrong", headers["x-os2geo-timestamp"], body,
                      headers["x-os2geo-signature"])
    assert not verify("s3cret", headers["x-os2geo-timestamp"], body + b" ",
                      headers["x-os2geo-signature"])
    assert not verify("s3cret", "1000", body, headers["x-os2geo-signature"])  # too old


def test_webhook_event_types_and_department_filter(world):
    other = DepartmentFactory(municipality=world["municipality"], name="Andet")
    Webhook.objects.create(municipality=world["municipality"], url="http://127.0.0.1:9/a",
                           secret="x", event_types=["report.updated"])
    Webhook.objects.create(municipality=world["municipality"], url="http://127.0.0.1:9/b",
                           secret="x", department=other)
    report = file_report()
    assert not Notification.objects.filter(channel="webhook").exists()
    services.report_transition(report_id=report.pk, to_status="acknowledged")
    assert list(Notification.objects.filter(channel="webhook").values_list(
        "recipient", "event")) == [("http://127.0.0.1:9/a", "report.updated")]


def test_following_needs_confirmation_then_mails_updates_with_one_click_unsubscribe(
        world, client):
    report = file_report(reporter=reporter())
    run_once()
    mail.outbox.clear()
    response = client.post(f"/api/v1/reports/{report.pk}/follow/",
                           {"email": "Nabo@Example.dk"}, content_type="application/json")
    assert response.status_code == 202
    run_once()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["nabo@example.dk"]
    services.report_transition(report_id=report.pk, to_status="acknowledged",
                               public_text="Modtaget")
    run_once()
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["mette@example.dk"]  # not confirmed
    link = link_in(confirmation.body, "/subscriptions/confirm/")
    ask = client.get(link)  # a mail scanner fetching the link confirms nothing
    assert ask.status_code == 200 and '<form method="post">' in ask.content.decode()
    from reports.models import Subscription

    assert not Subscription.objects.get(email="nabo@example.dk").confirmed_at
    confirm = client.post(link)
    assert confirm.status_code == 200 and "Du følger nu henvendelsen" in confirm.content.decode()
    mail.outbox.clear()
    services.report_transition(report_id=report.pk, to_status="resolved", public_text="Løst")
    run_once()
    by_to = {m.to[0]: m for m in mail.outbox}
    assert set(by_to) == {"mette@example.dk", "nabo@example.dk"}
    neighbour = by_to["nabo@example.dk"]
    unsubscribe = link_in(neighbour.body, "/subscriptions/unsubscribe/")
    assert neighbour.extra_headers["List-Unsubscribe"].endswith(unsubscribe + ">")
    assert neighbour.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert client.post(unsubscribe).status_code == 200          # RFC 8058 one-click POST
    assert client.post(unsubscribe).status_code == 200          # again: still fine
    mail.outbox.clear()
    services.report_transition(report_id=report.pk, to_status="acknowledged",
                               public_text="Genåbnet")
    run_once()
    assert [m.to[0] for m in mail.outbox] == ["mette@example.dk"]


def test_tampered_and_expired_links_are_refused(world, client, settings, monkeypatch):
    report = file_report()
    services.report_follow(report_id=report.pk, email="nabo@example.dk")
    run_once()
    link = link_in(mail.outbox[-1].body, "/subscriptions/confirm/")
    assert client.get(link[:-2] + "xx").status_code == 400
    assert client.get("/subscriptions/unsubscribe/garbage").status_code == 400
    import time as time_module

    real_time = time_module.time
    monkeypatch.setattr("django.core.signing.time.time",
                        lambda: real_time() + settings.SUBSCRIPTION_CONFIRM_HOURS * 3600 + 60)
    assert client.get(link).status_code == 400                  # expired
    monkeypatch.setattr("django.core.signing.time.time", real_time)
    assert client.get(link).status_code == 200


def test_following_an_unknown_report_or_with_a_bad_address(world, client):
    assert client.post("/api/v1/reports/999999/follow/", {"email": "a@b.dk"},
                       content_type="application/json").status_code == 404
    report = file_report()
    response = client.post(f"/api/v1/reports/{report.pk}/follow/", {"email": "nope"},
                           content_type="application/json")
    assert response.status_code == 400 and "email" in response.json()["errors"]


def test_web_reports_wait_for_confirmation_where_the_municipality_asks(world, client,
                                                                       settings):
    world["municipality"].confirm_anonymous_reports = True
    world["municipality"].save()
    body = {"location": {"type": "Point", "coordinates": [12.3633, 55.73]},
            "category": "pothole", "description": "Hul"}
    refused = client.post("/api/v1/reports/", body, content_type="application/json")
    assert refused.status_code == 400 and "reporter.email" in refused.json()["errors"]
    body["reporter"] = {"email": "borger@example.dk"}
    response = client.post("/api/v1/reports/", body, content_type="application/json")
    assert response.status_code == 202 and response.json()["confirmation_required"]
    report_id = response.json()["id"]
    # Not public anywhere, and nobody else is told yet.
    assert client.get(f"/api/v1/reports/{report_id}/").status_code == 404
    assert client.get("/api/v1/reports/").json()["features"] == []
    assert client.get("/open311/v2/requests.json").json() == []
    assert client.get(f"/reports/{report_id}").status_code == 404
    run_once()
    (confirmation,) = mail.outbox
    assert confirmation.to == ["borger@example.dk"]
    link = link_in(confirmation.body, "/reports/confirm/")
    assert client.get(link[:-3] + "abc").status_code == 400
    assert client.get(link).status_code == 200                  # shows a button only
    assert client.get(f"/api/v1/reports/{report_id}/").status_code == 404
    assert client.post(link).status_code == 200
    again = client.post(link)                                   # works once
    assert again.status_code == 200 and "allerede" in again.content.decode()
    assert client.get(f"/api/v1/reports/{report_id}/").status_code == 200
    run_once()
    assert sorted(m.to[0] for m in mail.outbox[1:]) == ["borger@example.dk",
                                                        "vej@ballerup.example.dk"]


def test_api_clients_and_other_municipalities_need_no_confirmation(world, client):
    from reports.api.keys import api_key_issue
    from reports.models import ApiClient

    world["municipality"].confirm_anonymous_reports = True
    world["municipality"].save()
    key = api_key_issue(client=ApiClient.objects.create(name="App"))
    body = {"location": {"type": "Point", "coordinates": [12.3633, 55.73]},
            "category": "pothole", "description": "Hul"}
    response = client.post("/api/v1/reports/", body, content_type="application/json",
                           HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert response.status_code == 201


def test_unconfirmed_reports_expire(world, settings):
    from reports.models import Report

    world["municipality"].confirm_anonymous_reports = True
    world["municipality"].save()
    waiting = file_report(source="web", reporter=reporter())
    assert not waiting.public and waiting.confirmed_at is None
    assert services.reports_expire_unconfirmed() == 0
    Report.objects.filter(pk=waiting.pk).update(
        created_at=timezone.now() - dt.timedelta(hours=settings.REPORT_CONFIRM_HOURS + 1))
    published = file_report(reporter=reporter())
    assert services.reports_expire_unconfirmed() == 1
    assert list(Report.objects.values_list("pk", flat=True)) == [published.pk]


@pytest.mark.parametrize("language,thanks,status", [
    ("da", "Tak for din henvendelse!", "Løst"),
    ("sv", "Tack för ditt ärende!", "Åtgärdat"),
    ("en", "Thank you for your report!", "Resolved"),
])
def test_mails_come_in_the_reporters_language(world, client, language, thanks, status):
    body = {"location": {"type": "Point", "coordinates": [12.3633, 55.73]},
            "category": "pothole", "description": "Hul",
            "reporter": {"email": "borger@example.dk"}}
    response = client.post("/api/v1/reports/", body, content_type="application/json",
                           HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 201
    services.report_transition(report_id=response.json()["id"], to_status="resolved")
    run_once()
    receipt, update = [m for m in mail.outbox if m.to == ["borger@example.dk"]]
    assert thanks in receipt.body and thanks in receipt.alternatives[0][0]
    assert f": {status}" in update.body
    department = next(m for m in mail.outbox if m.to == ["vej@ballerup.example.dk"])
    assert department.subject.startswith("Ny henvendelse")  # the municipality's language


def test_nobody_can_flood_an_inbox_with_confirmation_mails(world, client):
    """Following and alerts mail any address typed in: at most a few confirmations an hour
    reach one address, and the answer does not tell the caller so."""
    from reports.models import Notification

    reports = [file_report(description=f"Nr. {i}") for i in range(6)]
    answers = [client.post(f"/api/v1/reports/{r.pk}/follow/", {"email": "offer@example.dk"},
                           content_type="application/json").status_code for r in reports]
    assert answers == [202] * 6
    assert Notification.objects.filter(recipient="offer@example.dk",
                                       event="follower.confirm").count() == 3


def test_mails_are_rendered_by_the_worker_and_say_what_was_true_when_enqueued(world):
    report = file_report(reporter=reporter(), description="Hul ved skolen")
    rows = list(Notification.objects.filter(channel="email"))
    # The request stored templates and snapshots, not bodies.
    assert rows and all(row.template and row.context and not row.body_text for row in rows)
    services.report_transition(report_id=report.pk, to_status="resolved",
                               public_text="Løst.")
    report.refresh_from_db()
    report.department.name = "Omdøbt afdeling"
    report.department.save()
    mail.outbox.clear()
    run_once()
    receipt = next(m for m in mail.outbox if m.subject.startswith("Tak"))
    # Sent after the change, the receipt still names the department it was sent to then.
    assert "Omdøbt afdeling" not in receipt.body + receipt.alternatives[0][0]
    update = next(m for m in mail.outbox if "Løst." in m.body)
    assert "Løst" in update.body and ": Løst" in update.body
    stored = Notification.objects.get(pk=rows[0].pk)
    assert stored.state == "sent" and stored.body_text  # kept: a retry sends the same text


def test_a_mail_whose_template_cannot_render_is_given_up_with_the_reason(world):
    file_report(reporter=reporter())
    Notification.objects.filter(event="reporter.receipt").update(template="no_such_template")
    run_once()
    dead = Notification.objects.get(event="reporter.receipt")
    assert dead.state == "dead" and "no_such_template" in dead.last_error
    assert Notification.objects.get(event="department.new_report").state == "sent"
