"""The admin is limited by the staff roles, not only by what the dashboard shows."""

from __future__ import annotations

import pytest

from reports.models import Category, RoutingRule
from tests.reports.staff_world import make_staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = make_staff_world()
    for user in ("admin", "lead", "caseworker", "cph_worker"):
        world[user].is_staff = True
        world[user].save()
    return world


def test_municipality_admin_configures_only_their_municipality(client, world):
    client.force_login(world["admin"])
    page = client.get("/admin/reports/category/").content.decode()
    ours = Category.objects.filter(municipality=world["ballerup"]).first()
    theirs = Category.objects.filter(municipality=world["copenhagen"]).first()
    assert f"/admin/reports/category/{ours.pk}/change/" in page
    assert f"/admin/reports/category/{theirs.pk}/change/" not in page
    assert client.get(f"/admin/reports/category/{ours.pk}/change/").status_code == 200
    assert client.get(f"/admin/reports/category/{theirs.pk}/change/").status_code == 302
    response = client.post(f"/admin/reports/category/{theirs.pk}/change/", {"name": "Hacked"})
    assert response.status_code in (302, 403, 404)
    theirs.refresh_from_db()
    assert theirs.name != "Hacked"
    form = client.get("/admin/reports/routingrule/add/").content.decode()
    assert world["roads"].name in form and world["cph"].name not in form


def test_department_lead_manages_only_their_departments_rules(client, world):
    client.force_login(world["lead"])
    page = client.get("/admin/reports/routingrule/").content.decode()
    ours = RoutingRule.objects.filter(department=world["roads"]).first()
    other = RoutingRule.objects.filter(department=world["nature"]).first()
    assert f"/admin/reports/routingrule/{ours.pk}/change/" in page
    assert f"/admin/reports/routingrule/{other.pk}/change/" not in page
    assert client.get("/admin/reports/category/").status_code == 403


def test_caseworkers_see_no_configuration(client, world):
    client.force_login(world["caseworker"])
    for model in ("category", "routingrule", "department", "municipality", "apiclient",
                  "webhook", "staffmembership", "responsetemplate", "klesubject"):
        assert client.get(f"/admin/reports/{model}/").status_code == 403, model
