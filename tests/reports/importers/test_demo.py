"""The demo data set that script/server loads."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reports.lifecycle import Status
from reports.models import Asset, BodyRule, Municipality, Report, RoutingRule

pytestmark = pytest.mark.django_db


def test_demo_loads_real_setup_and_reports_in_every_status_once():
    out = io.StringIO()
    call_command("reports_load_demo", "--reports", "60", stdout=out)
    assert "Demo data loaded." in out.getvalue()
    assert set(Municipality.objects.values_list("code", flat=True)) == {"0151", "0101"}
    for municipality in Municipality.objects.all():
        assert municipality.default_department is not None
        assert municipality.categories.filter(active=True).count() == 11
        assert RoutingRule.objects.filter(municipality=municipality,
                                          area__isnull=False).exists()
        # Ballerup: six more, on its street lights.
        assert Report.objects.filter(municipality=municipality).count() == \
            (66 if municipality.code == "0151" else 60)
    assert set(Report.objects.values_list("status", flat=True)) == set(Status.values)
    # Copenhagen's real addresses are used, and routing by district happened.
    assert Report.objects.filter(municipality__code="0101",
                                 address__contains="København").exists()
    assert Report.objects.filter(department__name__startswith="Driftsenhed").exists()
    for report in Report.objects.filter(status=Status.DUPLICATE):
        assert report.duplicate_of is not None
    for report in Report.objects.all()[:20]:
        assert report.events.filter(kind="status").count() == report.version - 1
    # Ballerup's generated street lights, six of them reported; the state road's body.
    lights = Asset.objects.filter(asset_type__code="street-light")
    assert lights.count() == 761
    assert Report.objects.filter(asset__in=lights, status="submitted").count() == 6
    assert set(BodyRule.objects.filter(body__name="Vejdirektoratet").values_list(
        "kle_prefix", "action")) == {("05", "stop"), ("05.01.12", "forward")}
    # A second run changes nothing.
    out = io.StringIO()
    call_command("reports_load_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Report.objects.count() == 126


def test_demo_passwords_are_made_per_installation_never_a_fixed_one(settings):
    """db7da57 gave every installation the same demo password, written in the code."""
    from django.contrib.auth import authenticate

    from reports.models import Webhook

    settings.DEMO_PASSWORD = ""
    out = io.StringIO()
    call_command("reports_load_demo", "--reports", "5", stdout=out)
    password = out.getvalue().split("Demo account admin / ")[1].split(" ")[0]
    assert len(password) >= 12
    assert authenticate(username="admin", password=password) is not None
    assert authenticate(username="ballerup.vej", password=password) is not None
    assert authenticate(username="admin", password="os2geo-demo") is None
    assert Webhook.objects.get().secret not in ("", "demo-webhook-secret")
