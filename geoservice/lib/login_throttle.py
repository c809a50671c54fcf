"""Login throttling for every login form (the staff dashboard's and the Django admin's):
a username or a client address is refused after LOGIN_ATTEMPTS failures within
LOGIN_WINDOW_SECONDS of the first. Counted in the cache (geoservice.lib.ratelimit: shared
across processes when CACHE_URL names a Redis), by the client address behind trusted proxies
(geoservice.lib.client)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from geoservice.lib import ratelimit
from geoservice.lib.client import client_address

LOGIN_ATTEMPTS = 5
LOGIN_WINDOW_SECONDS = 15 * 60


class ThrottledLogin:
    """Mixin for Django's authentication forms."""

    data: Any  # the form's, set by Django's Form
    request: Any

    def _buckets(self) -> list[str]:
        username = (self.data.get("username") or "").strip().lower()[:150]
        address = client_address(self.request) if self.request else ""
        return [f"login-fail:user:{username}", f"login-fail:addr:{address}"]

    def clean(self):
        if any(ratelimit.failures(bucket) >= LOGIN_ATTEMPTS for bucket in self._buckets()):
            raise forms.ValidationError(
                _("Too many failed logins. Wait 15 minutes, or reset your password."),
                code="throttled")
        try:
            return super().clean()  # type: ignore[misc]
        except forms.ValidationError:
            for bucket in self._buckets():
                ratelimit.count_failure(bucket, LOGIN_WINDOW_SECONDS)
            raise


class ThrottledLoginForm(ThrottledLogin, AuthenticationForm):
    """The staff dashboard's login."""


class ThrottledAdminLoginForm(ThrottledLogin, AdminAuthenticationForm):
    """The Django admin's login (geoservice.urls sets it on the admin site)."""
