"""Staff single sign-on against a real OpenID Connect provider run by the test (panva's
oidc-provider on Node, with its development login form): a caseworker signs in through
Ballerup's provider in a real browser and lands in their queue with the role their group
grants; someone whose groups grant nothing is refused."""

from __future__ import annotations

import json
import subprocess

import pytest

from tests.frontend.conftest import axe_violations, screenshot
from tests.servers import ROOT, free_port, wait_for_port

pytestmark = pytest.mark.browser

ACCOUNTS = {
    "karen": {"email": "karen.vej@ballerup.example.dk", "name": "Karen Vej",
              "groups": ["os2geo-vej", "alle-ansatte"]},
    "ole": {"email": "ole@ballerup.example.dk", "name": "Ole Anden",
            "groups": ["alle-ansatte"]},
}


@pytest.fixture
def provider(live_site, db_access, tmp_path):
    from reports.models import Department, GroupRole, IdentityProvider, Municipality

    port = free_port()
    ballerup = Municipality.objects.get(code="0151")
    idp = IdentityProvider.objects.create(
        municipality=ballerup, name="Ballerup-login", issuer=f"http://127.0.0.1:{port}",
        client_id="os2geo", client_secret="test-secret-" + "x" * 20,
        scope="openid email profile groups")
    GroupRole.objects.create(provider=idp, group="os2geo-vej", role="caseworker",
                             department=Department.objects.get(municipality=ballerup,
                                                               name="Vej og Park"))
    config = tmp_path / "oidc.json"
    config.write_text(json.dumps({
        "client_id": idp.client_id, "client_secret": idp.client_secret,
        "redirect_uris": [f"{live_site['url']}/staff/sso/{idp.pk}/callback"],
        "accounts": ACCOUNTS}))
    log = (tmp_path / "oidc.log").open("wb")
    process = subprocess.Popen(["node", str(ROOT / "tests" / "oidc" / "provider.mjs"),
                                str(port), str(config)], stdout=log, stderr=log)
    try:
        wait_for_port(port, process)
        yield idp
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        idp.delete()


def sign_in(page, site, login: str) -> None:
    page.goto(site["url"] + "/staff/login/")
    page.click("#sso-logins a")
    page.wait_for_selector("input[name=login]")      # the provider's own login form
    page.fill("input[name=login]", login)
    page.fill("input[name=password]", "not checked by the development form")
    page.click("button[type=submit]")
    page.wait_for_load_state()
    if page.locator("button[type=submit]").count() and "/staff/" not in page.url:
        page.click("button[type=submit]")            # the provider's consent step


def test_a_caseworker_signs_in_through_the_municipalitys_provider(browser, live_site,
                                                                  provider, db_access):
    from django.contrib.auth.models import User

    from reports.models import ExternalIdentity, StaffMembership

    context = browser.new_context(locale="da-DK", viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(live_site["url"] + "/staff/login/")
    assert page.locator("#sso-logins a").inner_text() == "Log ind med Ballerup-login"
    assert axe_violations(page) == []
    sign_in(page, live_site, "karen")
    page.wait_for_url(live_site["url"] + "/staff/")
    screenshot(page, "staff-queue-after-sso")
    identity = ExternalIdentity.objects.get(provider=provider, subject="karen")
    user = User.objects.get(pk=identity.user_id)
    assert user.email == "karen.vej@ballerup.example.dk" and not user.has_usable_password()
    memberships = list(StaffMembership.objects.filter(user=user).values_list(
        "role", "department__name"))
    assert memberships == [("caseworker", "Vej og Park")]
    assert page.locator("table").count() >= 1         # the queue, in the user's scope
    context.close()

    context = browser.new_context(locale="da-DK")
    page = context.new_page()
    sign_in(page, live_site, "ole")
    page.wait_for_selector("h1:has-text('Ingen adgang')")
    assert not ExternalIdentity.objects.filter(subject="ole").exists()
    page.goto(live_site["url"] + "/staff/")
    assert "/staff/login/" in page.url                 # not logged in
    context.close()
