"""Staff single sign-on: a municipality's identity provider (OpenID Connect: Entra ID,
OS2faktor, Keycloak, …), how its groups map to roles here, and who is who there."""

from __future__ import annotations

from django.conf import settings
from django.contrib.gis.db import models
from django.utils import timezone

from reports.models.organisation import (
    Department,
    Municipality,
    StaffMembership,
    _same_municipality,
)


class IdentityProvider(models.Model):
    """An OpenID Connect provider whose users are one municipality's staff."""

    municipality = models.ForeignKey(Municipality, on_delete=models.CASCADE,
                                     related_name="identity_providers")
    name = models.CharField(max_length=100, help_text="On the login button, e.g. "
                                                      "'Ballerup Kommunes login'.")
    issuer = models.URLField(max_length=300, help_text="The issuer URL; its "
                             ".well-known/openid-configuration is read from there.")
    client_id = models.CharField(max_length=200)
    client_secret = models.CharField(max_length=500)
    scope = models.CharField(max_length=200, default="openid email profile")
    groups_claim = models.CharField(
        max_length=100, default="groups",
        help_text="The claim (ID token or userinfo) that lists the user's groups or roles.")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["municipality", "name"]

    def __str__(self) -> str:
        return self.name


class GroupRole(models.Model):
    """Members of `group` at the provider get `role` (in `department`) here."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE,
                                 related_name="group_roles")
    group = models.CharField(max_length=300)
    role = models.CharField(max_length=20, choices=StaffMembership.Role.choices)
    department = models.ForeignKey(Department, null=True, blank=True,
                                   on_delete=models.CASCADE, related_name="+",
                                   help_text="Empty for a municipality admin.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "group", "role",
                                                       "department"],
                                               name="group_role_once", nulls_distinct=False)]

    def __str__(self) -> str:
        return f"{self.group} → {self.get_role_display()} {self.department or ''}".strip()

    @property
    def municipality_id(self) -> int:
        return self.provider.municipality_id

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        if (self.role == StaffMembership.Role.MUNICIPALITY_ADMIN) != (self.department_id
                                                                      is None):
            raise ValidationError({"department": "A municipality admin has no department; "
                                                 "the other roles have one."})
        if self.department_id:
            _same_municipality(self)


class ExternalIdentity(models.Model):
    """A staff user as their identity provider knows them (its `sub`, stable for life)."""

    provider = models.ForeignKey(IdentityProvider, on_delete=models.CASCADE,
                                 related_name="identities")
    subject = models.CharField(max_length=255)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="external_identities")
    last_login_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["provider", "subject"],
                                               name="external_identity_once")]
