"""Staff single sign-on over OpenID Connect, and the password policy beside it.

A municipality's IdentityProvider is an OIDC provider (Entra ID, OS2faktor, Keycloak speak
it). Sign-in is the authorization-code flow with PKCE, state and nonce (Authlib: the ID
token's signature, issuer, audience, expiry and nonce are checked against the provider's
published keys). The user's groups (`groups_claim`, from the ID token or userinfo) decide
their roles through the provider's GroupRole table at every sign-in: the memberships in
that municipality are replaced by what the groups grant now, so a person who left a group
at the provider loses the role here at their next sign-in (and their open staff sockets
are told at once). Someone whose groups grant nothing is refused.

A municipality can switch password login off (Municipality.password_login): its staff then
sign in only through its provider. The check sits in both password forms (the dashboard's
and the admin's, `confirm_login_allowed`), not in an authentication backend of our own:
sessions name their backend, and every session made with Django's ModelBackend would have
ended with a new one. Superusers keep password login (someone must be able to repair a
broken provider set-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from authlib.integrations.django_client import OAuth  # type: ignore[import-untyped]
from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from geoservice.errors import Forbidden
from geoservice.lib.login_throttle import ThrottledAdminLoginForm, ThrottledLoginForm
from reports.live import events
from reports.models import (
    ExternalIdentity,
    IdentityProvider,
    Municipality,
    StaffMembership,
)


class PasswordPolicy:
    """Mixin for Django's authentication forms: staff whose every municipality signs in
    through its identity provider only are refused a password login."""

    def confirm_login_allowed(self, user) -> None:
        super().confirm_login_allowed(user)  # type: ignore[misc]
        if not password_login_allowed(user):
            raise forms.ValidationError(
                _("Your municipality's staff log in through its own login service: use "
                  "the button above."), code="single_sign_on_only")


class StaffLoginForm(PasswordPolicy, ThrottledLoginForm):
    """The staff dashboard's login."""


class StaffAdminLoginForm(PasswordPolicy, ThrottledAdminLoginForm):
    """The Django admin's login."""


def password_login_allowed(user) -> bool:
    if user.is_superuser:
        return True
    municipalities = set(StaffMembership.objects.filter(user=user).values_list(
        "municipality_id", flat=True))
    if not municipalities:
        return True
    return Municipality.objects.filter(pk__in=municipalities, password_login=True).exists()


def client_for(provider: IdentityProvider):
    """The provider's OIDC client, registered from its row (discovery document cached by
    Authlib per client)."""
    oauth = OAuth()
    return oauth.register(
        name=f"idp{provider.pk}", client_id=provider.client_id,
        client_secret=provider.client_secret,
        server_metadata_url=provider.issuer.rstrip("/") + "/.well-known/openid-configuration",
        # Every call to the provider (discovery, keys, token, userinfo) within 10 s: a
        # provider that hangs must not hold a web process.
        client_kwargs={"scope": provider.scope, "code_challenge_method": "S256",
                       "default_timeout": 10})


class SignInRefused(Forbidden):
    default_message = "Your account has no role in OS2geo."


@dataclass(frozen=True)
class Claims:
    subject: str
    email: str
    name: str
    groups: frozenset[str]


def claims_from(provider: IdentityProvider, token: dict, userinfo: dict) -> Claims:
    """The claims that matter here, from the ID token's and userinfo's (userinfo wins)."""
    merged = {**(token.get("userinfo") or {}), **(userinfo or {})}
    groups = merged.get(provider.groups_claim) or []
    if isinstance(groups, str):
        groups = [groups]
    return Claims(subject=str(merged.get("sub") or ""), email=str(merged.get("email") or ""),
                  name=str(merged.get("name") or ""), groups=frozenset(map(str, groups)))


@transaction.atomic
def staff_sign_in(*, provider: IdentityProvider, claims: Claims):
    """The user for a provider's signed-in person, created on first sign-in, with the roles
    their groups grant now; None when they grant none (and a known user loses the roles
    they had in the provider's municipality)."""
    if not claims.subject:
        raise SignInRefused("The identity provider named no subject.")
    grants = [rule for rule in provider.group_roles.select_related("department")
              if rule.group in claims.groups]
    identity = ExternalIdentity.objects.select_related("user").filter(
        provider=provider, subject=claims.subject).first()
    if not grants:
        if identity is not None:  # left every group at the provider: no role here either
            StaffMembership.objects.filter(user=identity.user,
                                           municipality=provider.municipality).delete()
            events.staff_access_changed(identity.user_id)
        return None
    User = get_user_model()
    if identity is None:
        username = f"{provider.municipality.code}-{claims.email or claims.subject}"[:150]
        if User.objects.filter(username=username).exists():
            # Never take over an account that exists: it may be someone else's.
            username = f"{provider.municipality.code}-sso{provider.pk}-{claims.subject}"[:150]
        user = User(username=username)
        user.set_unusable_password()
        user.save()
        identity = ExternalIdentity.objects.create(provider=provider, subject=claims.subject,
                                                   user=user)
    user = identity.user
    first, _, last = claims.name.partition(" ")
    user.email, user.first_name, user.last_name = claims.email, first[:150], last[:150]
    user.is_staff = any(rule.role != StaffMembership.Role.CASEWORKER for rule in grants)
    user.save()
    # One membership per department (the table's rule): the strongest role granted.
    rank: dict[str, int] = {StaffMembership.Role.CASEWORKER: 0,
                            StaffMembership.Role.DEPARTMENT_LEAD: 1,
                            StaffMembership.Role.MUNICIPALITY_ADMIN: 2}
    strongest: dict[int | None, str] = {}
    for rule in grants:
        held = strongest.get(rule.department_id)
        if held is None or rank[rule.role] > rank[held]:
            strongest[rule.department_id] = rule.role
    wanted = {(role, department_id) for department_id, role in strongest.items()}
    current = StaffMembership.objects.filter(user=user, municipality=provider.municipality)
    have = {(m.role, m.department_id): m for m in current}
    for key, membership in have.items():
        if key not in wanted:
            membership.delete()
    departments = {rule.department_id: rule.department for rule in grants}
    for role, department_id in wanted - set(have):
        StaffMembership.objects.update_or_create(
            user=user, municipality=provider.municipality,
            department=departments[department_id], defaults={"role": role})
    ExternalIdentity.objects.filter(pk=identity.pk).update(last_login_at=timezone.now())
    events.staff_access_changed(user.pk)
    return user
