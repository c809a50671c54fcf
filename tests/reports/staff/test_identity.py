"""Single sign-on's rules without a browser: roles follow the provider's groups at every
sign-in, an existing account is never taken over, and a municipality can switch password
login off (superusers keep it). The whole flow against a real provider is
tests/frontend/staff/test_sso.py."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User

from reports.models import ExternalIdentity, GroupRole, IdentityProvider, StaffMembership
from reports.staff.identity import Claims, staff_sign_in
from tests.reports.factories import PASSWORD, UserFactory
from tests.reports.worlds import staff_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return staff_world()


@pytest.fixture
def idp(world):
    provider = IdentityProvider.objects.create(
        municipality=world["ballerup"], name="Ballerup-login", issuer="http://127.0.0.1:9",
        client_id="os2geo", client_secret="x")
    GroupRole.objects.create(provider=provider, group="vej", role="caseworker",
                             department=world["roads"])
    GroupRole.objects.create(provider=provider, group="vej-ledere", role="department_lead",
                             department=world["roads"])
    GroupRole.objects.create(provider=provider, group="natur", role="caseworker",
                             department=world["nature"])
    return provider


def claims(*groups: str, sub: str = "k-1") -> Claims:
    return Claims(subject=sub, email="karen@ballerup.example.dk", name="Karen Vej",
                  groups=frozenset(groups))


def roles(user) -> set[tuple[str, str]]:
    return set(StaffMembership.objects.filter(user=user).values_list("role",
                                                                     "department__name"))


def test_roles_follow_the_groups_at_every_sign_in(idp, world):
    user = staff_sign_in(provider=idp, claims=claims("vej", "alle"))
    assert roles(user) == {("caseworker", "Vej og Park")}
    assert not user.is_staff and not user.has_usable_password()
    again = staff_sign_in(provider=idp, claims=claims("vej", "vej-ledere", "natur"))
    assert again.pk == user.pk
    assert roles(user) == {("department_lead", "Vej og Park"), ("caseworker", "Natur og Miljø")}
    assert User.objects.get(pk=user.pk).is_staff      # a lead manages rules in the admin
    assert staff_sign_in(provider=idp, claims=claims("alle")) is None
    assert roles(user) == set()                        # left every group: no role here


def test_someone_unknown_whose_groups_grant_nothing_gets_no_account(idp):
    assert staff_sign_in(provider=idp, claims=claims("alle", sub="new")) is None
    assert not ExternalIdentity.objects.exists()


def test_an_existing_account_with_the_same_name_is_never_taken_over(idp, world):
    local = UserFactory(username="0151-karen@ballerup.example.dk")
    user = staff_sign_in(provider=idp, claims=claims("vej"))
    assert user.pk != local.pk and roles(local) == set()


def test_roles_elsewhere_are_left_alone(idp, world):
    user = staff_sign_in(provider=idp, claims=claims("vej"))
    StaffMembership.objects.create(user=user, municipality=world["copenhagen"],
                                   department=world["cph"], role="caseworker")
    staff_sign_in(provider=idp, claims=claims("natur"))
    assert roles(user) == {("caseworker", "Natur og Miljø"), ("caseworker", "Vejdrift")}


def test_password_login_can_be_switched_off_per_municipality(client, world):
    assert client.login(username="vej", password=PASSWORD)
    client.logout()
    world["ballerup"].password_login = False
    world["ballerup"].save()
    response = client.post("/staff/login/", {"username": "vej", "password": PASSWORD},
                           HTTP_ACCEPT_LANGUAGE="da")
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert "eget login" in response.content.decode()           # says why, in Danish
    world["caseworker"].is_staff = True
    world["caseworker"].save()
    response = client.post("/admin/login/", {"username": "vej", "password": PASSWORD})
    assert response.status_code == 200 and "_auth_user_id" not in client.session
    assert client.post("/staff/login/", {"username": "kbh", "password": PASSWORD}
                       ).status_code == 302                   # København keeps passwords
    client.logout()
    admin = UserFactory(username="root", is_superuser=True, is_staff=True)
    StaffMembership.objects.create(user=admin, municipality=world["ballerup"],
                                   role="municipality_admin")
    assert client.post("/staff/login/", {"username": "root", "password": PASSWORD}
                       ).status_code == 302                   # superusers always


def test_an_unreachable_provider_is_a_503_and_a_forged_callback_a_400(client, idp):
    response = client.get(f"/staff/sso/{idp.pk}/")
    assert response.status_code == 503 and response["Retry-After"] == "60"
    response = client.get(f"/staff/sso/{idp.pk}/callback?code=stolen&state=forged")
    assert response.status_code == 400, response.content  # the state is checked first
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/sso/999999/").status_code == 404
