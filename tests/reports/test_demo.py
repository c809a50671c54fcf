"""The demo data set that script/server loads."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from reports.lifecycle import Status
from reports.models import Municipality, Report, RoutingRule

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
        assert Report.objects.filter(municipality=municipality).count() == 60
    assert set(Report.objects.values_list("status", flat=True)) == set(Status.values)
    # Copenhagen's real addresses are used, and routing by district happened.
    assert Report.objects.filter(municipality__code="0101",
                                 address__contains="København").exists()
    assert Report.objects.filter(department__name__startswith="Driftsenhed").exists()
    for report in Report.objects.filter(status=Status.DUPLICATE):
        assert report.duplicate_of is not None
    for report in Report.objects.all()[:20]:
        assert report.events.filter(kind="status").count() == report.version - 1
    # A second run changes nothing.
    out = io.StringIO()
    call_command("reports_load_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Report.objects.count() == 120
