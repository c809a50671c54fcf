"""A citizen's own reports without an account: the link is asked for with the same answer
whether or not the address is known, mailed a few times an hour at most, short-lived, and
lists what the address filed or follows in the last 12 months; from it they stop following
or withdraw a report nobody has acted on yet."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.core.signing import TimestampSigner
from django.utils import timezone

from reports import services
from reports.models import Notification, Report, Subscription
from reports.notifications import links
from reports.notifications.worker import run_once
from tests.reports.factories import file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


def ask(client, email: str):
    return client.post("/my-reports/", {"email": email}, HTTP_ACCEPT_LANGUAGE="da")


def mailed_link() -> str:
    run_once()
    body = mail.outbox[-1].body
    return re.search(r"/my-reports/\S+", body).group(0)


def mailed_link_again(client) -> str:
    mail.outbox.clear()
    ask(client, "mette@example.dk")
    return mailed_link()


def test_the_answer_is_the_same_for_a_known_and_an_unknown_address(client, world):
    file_report(reporter=services.Reporter(email="mette@example.dk"))
    known, unknown = ask(client, "Mette@Example.dk"), ask(client, "nobody@example.dk")
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", r.content.decode())  # noqa: E731
    assert strip(known) == strip(unknown)
    assert list(Notification.objects.filter(event="my_reports.link")
                .values_list("recipient", flat=True)) == ["mette@example.dk"]
    assert ask(client, "not an address").status_code == 400


def test_an_address_gets_the_link_three_times_an_hour_at_most(client, world):
    file_report(reporter=services.Reporter(email="mette@example.dk"))
    for _ in range(5):
        assert ask(client, "mette@example.dk").status_code == 200
    assert Notification.objects.filter(event="my_reports.link").count() == 3


def test_the_page_lists_filed_and_followed_reports_of_the_last_twelve_months(client, world):
    mine = file_report(reporter=services.Reporter(email="mette@example.dk"),
                       description="Mit hul")
    followed = file_report(description="Naboens hul")
    Subscription.objects.create(report=followed, email="mette@example.dk",
                                confirmed_at=timezone.now())
    old = file_report(reporter=services.Reporter(email="mette@example.dk"),
                      description="Gammelt hul")
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=400))
    other = file_report(reporter=services.Reporter(email="anden@example.dk"))
    ask(client, "mette@example.dk")
    page = client.get(mailed_link(), HTTP_ACCEPT_LANGUAGE="da")
    assert page.status_code == 200 and page["Cache-Control"] == "private, no-store"
    html = page.content.decode()
    assert f'id="my-report-{mine.pk}"' in html and f'id="my-report-{followed.pk}"' in html
    assert f'id="my-report-{old.pk}"' not in html and f'id="my-report-{other.pk}"' not in html
    # Someone else's report, once it is no longer public, is not shown to its followers.
    Report.objects.filter(pk=followed.pk).update(hidden=True)
    html = client.get(mailed_link_again(client)).content.decode()
    assert f'id="my-report-{followed.pk}"' not in html and f'id="my-report-{mine.pk}"' in html


def test_stop_following_and_withdraw_an_untouched_report(client, world):
    mine = file_report(reporter=services.Reporter(email="mette@example.dk"))
    started = file_report(reporter=services.Reporter(email="mette@example.dk"))
    services.report_transition(report_id=started.pk, to_status="acknowledged")
    ask(client, "mette@example.dk")
    link = mailed_link()
    assert client.post(link, {"action": "unfollow", "report": mine.pk}).status_code == 200
    assert not Subscription.objects.filter(report=mine, email="mette@example.dk").exists()
    refused = client.post(link, {"action": "withdraw", "report": started.pk})
    assert refused.status_code == 409
    started.refresh_from_db()
    assert started.status == "acknowledged"
    done = client.post(link, {"action": "withdraw", "report": mine.pk},
                       HTTP_ACCEPT_LANGUAGE="da")
    assert done.status_code == 200
    mine.refresh_from_db()
    assert mine.status == "rejected"
    event = mine.events.get(kind="status", to_status="rejected")
    assert event.public_text == "Trukket tilbage af anmelderen."
    someone_elses = file_report(reporter=services.Reporter(email="anden@example.dk"))
    assert client.post(link, {"action": "withdraw", "report": someone_elses.pk}
                       ).status_code == 404


def test_an_old_or_tampered_link_is_refused(client, world, settings):
    file_report(reporter=services.Reporter(email="mette@example.dk"))
    ask(client, "mette@example.dk")
    link = mailed_link()
    assert client.get(link[:-3] + "abc").status_code == 400
    token = link.rsplit("/", 1)[1]
    assert links.read_value("my-reports", token) == "mette@example.dk"
    signer = TimestampSigner(salt="reports.links.my-reports")
    assert signer.unsign_object(token)  # a timestamped value: it can expire
    settings.MY_REPORTS_LINK_HOURS = 0
    assert client.get(link).status_code == 400
    assert client.get(f"/my-reports/{links.token('my-reports', 1)}").status_code == 400
