"""Staff single sign-on pages: start at the municipality's identity provider, come back
with a code (reports.staff.identity does the rest)."""

from __future__ import annotations

import requests
from authlib.integrations.base_client.errors import OAuthError  # type: ignore[import-untyped]
from django.contrib.auth import login
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from reports.models import IdentityProvider
from reports.staff import identity

BACKEND = "django.contrib.auth.backends.ModelBackend"  # the session's user lookup


def _provider(provider_id: int) -> IdentityProvider:
    provider = IdentityProvider.objects.select_related("municipality").filter(
        pk=provider_id, active=True).first()
    if provider is None:
        raise Http404("No such login")
    return provider


def _unreachable(request):
    response = render(request, "frontend/message.html", {
        "title": _("Login did not work"),
        "message": _("The login service cannot be reached. Try again in a minute.")},
        status=503)
    response["Retry-After"] = "60"
    return response


@require_GET
def start(request, provider_id: int):
    provider = _provider(provider_id)
    try:
        return _redirect_to(request, provider)
    except requests.RequestException:
        return _unreachable(request)


def _redirect_to(request, provider: IdentityProvider):
    next_url = request.GET.get("next", "")
    if url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        request.session["sso_next"] = next_url
    callback = request.build_absolute_uri(reverse("staff-sso-callback", args=[provider.pk]))
    return identity.client_for(provider).authorize_redirect(request, callback)


@require_GET
def callback(request, provider_id: int):
    provider = _provider(provider_id)
    client = identity.client_for(provider)
    try:
        token = client.authorize_access_token(request)
        userinfo = client.userinfo(token=token) if client.load_server_metadata().get(
            "userinfo_endpoint") else {}
        user = identity.staff_sign_in(provider=provider,
                                      claims=identity.claims_from(provider, token, userinfo))
    except requests.RequestException:
        return _unreachable(request)
    except OAuthError as exc:
        return render(request, "frontend/message.html", {
            "title": _("Login did not work"),
            "message": _("The login service answered: %(error)s") % {
                "error": exc.description or exc.error}}, status=400)
    except identity.SignInRefused:
        user = None
    if user is None:
        return render(request, "frontend/message.html", {
            "title": _("No access"),
            "message": _("You are logged in at %(provider)s, but none of your groups gives a "
                         "role in OS2geo. Ask your administrator.") % {
                "provider": provider.name}}, status=403)
    login(request, user, backend=BACKEND)
    return redirect(request.session.pop("sso_next", "") or "staff-queue")


def providers():
    """The login page's buttons (called per request by the login view's context)."""
    return list(IdentityProvider.objects.filter(active=True).select_related("municipality")
                .order_by("municipality__name", "name"))
