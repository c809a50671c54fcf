"""Reports taken by staff for a caller (phone, counter, mail) in the dashboard, named or
anonymous; the channel of every report, counted in the statistics and the export."""

from __future__ import annotations

import csv
import io
import re

import pytest

from reports.models import Notification, Report
from tests.reports.factories import file_report
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


def form_token(page: str) -> str:
    return re.search(r'name="form_token" value="([0-9a-f]+)"', page).group(1)


def new_report(client, **fields):
    danish = {"HTTP_ACCEPT_LANGUAGE": "da"}
    page = client.get("/staff/new/", **danish).content.decode()
    data = {"form_token": form_token(page), "channel": "phone", "category": "0151:pothole",
            "description": "Ringede: dybt hul ud for nr. 12", "lat": "55.7300",
            "lon": "12.3633", **fields}
    return client.post("/staff/new/", data, **danish), data


def test_a_caller_is_filed_for_with_the_channel_and_gets_the_receipt(client, world):
    client.force_login(world["caseworker"])
    response, _ = new_report(client, name="Grethe Olsen", email="grethe@example.dk")
    report = Report.objects.get()
    assert response.status_code == 302 and response["Location"] == \
        f"/staff/reports/{report.pk}/"
    assert (report.source, report.reporter_name, report.department) == (
        "phone", "Grethe Olsen", world["roads"])
    assert report.public  # taken by staff: nothing to confirm
    created = report.events.get(kind="created")
    assert created.actor == world["caseworker"] and "(phone)" in created.internal_text
    assert Notification.objects.filter(report=report, event="reporter.receipt",
                                       recipient="grethe@example.dk").exists()
    detail = client.get(f"/api/v1/reports/{report.pk}/").content.decode()
    assert "Grethe" not in detail and "vej" not in detail.split('"timeline"')[1]


def test_an_anonymous_counter_report_by_address(client, world):
    from maps.models import Address, Area

    # The shipped address extract has addresses in København, none in Ballerup.
    client.force_login(world["cph_worker"])
    copenhagen = Area.objects.get(kind=Area.Kind.MUNICIPALITY, code="0101")
    address = Address.objects.filter(location__within=copenhagen.geom).order_by("id")[0].label
    response, _ = new_report(client, channel="counter", lat="", lon="", address=address,
                             category="0101:pothole")
    assert response.status_code == 302, response.content.decode()[:2000]
    report = Report.objects.get()
    assert report.source == "counter" and report.reporter_email == ""
    assert report.address == address


def test_submitting_the_same_form_twice_files_one_report(client, world):
    client.force_login(world["caseworker"])
    first, data = new_report(client)
    again = client.post("/staff/new/", data)
    assert (first.status_code, again.status_code) == (302, 302)
    assert first["Location"] == again["Location"]
    assert Report.objects.count() == 1


@pytest.mark.parametrize(("fields", "needle"), [
    ({"lat": "", "lon": "", "address": ""}, "Giv adressen"),
    ({"lat": "", "lon": "", "address": "Ingen Sådan Vej 999"}, "matches no known address"),
    ({"lat": "55.40", "lon": "10.39"}, "Ballerup Kommune (0151)"),  # the nearest served
    ({"description": ""}, "Hvad er problemet?"),
])
def test_bad_input_is_a_400_naming_the_field_in_danish(client, world, fields, needle):
    client.force_login(world["caseworker"])
    response, _ = new_report(client, **fields)
    assert response.status_code == 400
    alert = response.content.decode().split('role="alert"')[1].split("</div>")[0]
    assert needle in alert, alert
    assert Report.objects.count() == 0


def test_the_channel_is_counted_in_the_statistics_and_the_export(client, world):
    file_report()                                   # an app's (REST API) report
    client.force_login(world["caseworker"])
    new_report(client)
    page = client.get("/staff/stats/").content.decode()
    section = page.split('id="by-channel"')[1].split("</section>")[0]
    assert "1" in section and re.search(r"(Phone|Telefon)", section)
    rows = list(csv.reader(io.StringIO(
        b"".join(client.get("/staff/export.csv").streaming_content).decode("utf-8-sig"))))
    source = rows[0].index("source")
    assert sorted(row[source] for row in rows[1:]) == ["api", "phone"]
