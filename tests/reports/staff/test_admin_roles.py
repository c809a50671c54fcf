"""The admin is limited by the staff roles, not only by what the dashboard shows."""

from __future__ import annotations

import pytest
from django.contrib.admin.sites import site
from django.test import RequestFactory

from reports.models import Category, Municipality, RoutingRule
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    world = staff_world()
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


# --- findings of the security review (each failed on db7da57) ------------------------------

def form_data(client, url: str) -> dict:
    """The admin form's own fields as the browser would send them back unchanged."""
    import re

    page = client.get(url).content.decode()
    data = {}
    for tag in re.findall(r"<(?:input|select|textarea)[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        if 'type="checkbox"' in tag:
            if "checked" in tag:
                data[name.group(1)] = "on"
            continue
        data[name.group(1)] = value.group(1) if value else ""
    for name, selected in re.findall(
            r'<select name="([^"]+)"[^>]*>.*?<option value="([^"]*)" selected', page, re.S):
        data[name] = selected
    return data


def test_the_admin_login_is_throttled_like_the_dashboards(client, world):
    world["admin"].set_password("right-password-1")
    world["admin"].save()
    for _ in range(5):
        client.post("/admin/login/", {"username": "kommune", "password": "wrong"})
    refused = client.post("/admin/login/", {"username": "kommune",
                                            "password": "right-password-1"})
    assert refused.status_code == 200
    assert "For mange mislykkede logins" in refused.content.decode()  # in Danish
    assert "_auth_user_id" not in client.session


def test_a_municipality_admin_cannot_free_an_api_client_from_their_municipality(client, world):
    from reports.models import ApiClient

    api_client = ApiClient.objects.create(name="App", municipality=world["ballerup"])
    client.force_login(world["admin"])
    url = f"/admin/reports/apiclient/{api_client.pk}/change/"
    data = {**form_data(client, url), "municipality": ""}
    response = client.post(url, data)
    assert response.status_code == 200  # the form again, with the error
    assert "Choose one of your own municipalities" in response.content.decode()
    api_client.refresh_from_db()
    assert api_client.municipality == world["ballerup"]
    renamed = client.post(url, {**form_data(client, url), "name": "App 2"})
    assert renamed.status_code == 302  # the same form data is otherwise accepted
    api_client.refresh_from_db()
    assert api_client.name == "App 2"
    add = client.post("/admin/reports/apiclient/add/", {
        **form_data(client, "/admin/reports/apiclient/add/"), "name": "Everywhere",
        "municipality": "", "rate_limit_per_minute": "100"})
    assert add.status_code == 200 and not ApiClient.objects.filter(name="Everywhere").exists()


def test_a_municipality_admin_cannot_change_the_boundary_code_or_service(client, world):
    from maps.models import Area

    ballerup = world["ballerup"]
    client.force_login(world["admin"])
    url = f"/admin/reports/municipality/{ballerup.pk}/change/"
    district = Area.objects.filter(kind=Area.Kind.DISTRICT).exclude(
        parent=ballerup.area).first()
    data = {**form_data(client, url), "area": str(district.pk), "code": "9999", "name": "B"}
    data.pop("active", None)
    assert client.post(url, data).status_code == 302  # saved, but only what they may change
    ballerup.refresh_from_db()
    assert ballerup.name == "B"
    assert (ballerup.area_id, ballerup.code, ballerup.active) != (district.pk, "9999", False)
    assert ballerup.code == "0151" and ballerup.active and ballerup.area.kind == "municipality"


def test_boundaries_that_overlap_or_are_not_municipalities_are_refused(world):
    from django.core.exceptions import ValidationError

    from maps.models import Area

    ballerup, copenhagen = world["ballerup"], world["copenhagen"]
    ballerup.area = copenhagen.area
    with pytest.raises(ValidationError, match="overlaps"):
        ballerup.full_clean()
    ballerup.area = Area.objects.filter(kind=Area.Kind.DISTRICT).first()
    with pytest.raises(ValidationError, match="municipality boundary"):
        ballerup.full_clean()
    neighbour = Area.objects.get(kind=Area.Kind.MUNICIPALITY, code="0157")  # Gentofte
    ballerup.area = neighbour
    ballerup.full_clean(exclude=["code", "name"])  # touching Copenhagen is fine


def test_rules_webhooks_and_memberships_keep_to_one_municipality(world):
    from django.core.exceptions import ValidationError

    from reports.models import StaffMembership, Webhook

    for row in (RoutingRule(municipality=world["ballerup"], department=world["cph"]),
                Webhook(municipality=world["ballerup"], department=world["cph"],
                        url="https://x.example/", secret="s"),
                StaffMembership(user=world["caseworker"], municipality=world["ballerup"],
                                department=world["cph"], role="caseworker")):
        with pytest.raises(ValidationError, match="same municipality"):
            row.full_clean()


def test_a_scope_error_without_a_field_is_a_form_error_not_a_crash(world):
    """Defence behind get_queryset: the admin's form itself refuses a row outside the
    user's scope, also where the scope field is not in the form (a municipality's id)."""
    request = RequestFactory().post("/admin/reports/municipality/")
    request.user = world["admin"]
    theirs = world["copenhagen"]
    form_class = site._registry[Municipality].get_form(request, obj=theirs, change=True)
    form = form_class(data={"name": "Overtaget", "default_department": ""}, instance=theirs)
    assert not form.is_valid()
    assert form.non_field_errors() == ["Choose one of your own municipalities."]
