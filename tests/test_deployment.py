"""A production configuration passes Django's deployment checks, every response carries the
security headers, and the demo cannot be served to the network with DEBUG on."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys

import pytest

from tests.servers import ROOT

PRODUCTION = {"DEBUG": "0", "HTTPS": "1", "ALLOWED_HOSTS": "os2geo.example.dk",
              "TRUSTED_PROXIES": "10.0.0.0/8", "EMAIL_HOST": "smtp.example.dk",
              "SECRET_KEY_FALLBACKS": "an-older-key-being-rotated-out-" + "x" * 30}


def test_check_deploy_is_clean_in_a_production_configuration(django_db_setup,
                                                             django_db_blocker):
    from tests.servers import current_database_url

    with django_db_blocker.unblock():
        url = current_database_url()
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "DATABASE_URL": url,
           "SECRET_KEY": secrets.token_urlsafe(50), **PRODUCTION}
    result = subprocess.run([sys.executable, "manage.py", "check", "--deploy",
                             "--fail-level", "WARNING"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.django_db
def test_pages_carry_a_content_security_policy_and_no_inline_script_is_needed(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split(
        "script-src")[1].split(";")[0]
    assert "worker-src 'self' blob:" in policy and "frame-ancestors 'none'" in policy
    assert "https://tile.openstreetmap.org" in policy  # the default base layer
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    docs = client.get("/api/v1/docs/").content.decode()
    assert "<script>" not in docs  # Swagger UI starts from a script file, not inline


def test_the_demo_is_not_served_to_the_network_with_debug_on(tmp_path):
    env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "HOST": "0.0.0.0"}
    result = subprocess.run([str(ROOT / "script" / "server")], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode != 0
    assert "DEBUG on" in result.stderr


def test_no_password_or_key_is_written_in_the_product_code():
    """Demo passwords, the development key and the demo webhook secret are made per
    installation (script/_lib.sh: var/…), never fixed in the code."""
    for folder in ("geoservice", "reports", "maps", "frontend", "script"):
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".sh", ".html", ".js") or path.parent.name == "script":
                if "node_modules" in path.parts or not path.is_file():
                    continue
                text = path.read_text(errors="ignore")
                for secret in ("os2geo-demo", "insecure-development-key",
                               "demo-webhook-secret\""):
                    assert secret not in text, (path, secret)


def test_the_migrations_describe_the_models(db):
    """A model change without its migration would deploy a schema the code does not match
    (or choices the database check constraints do not know)."""
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    try:
        call_command("makemigrations", "--check", "--dry-run", stdout=out, stderr=out)
    except SystemExit as exc:
        raise AssertionError(f"models without a migration:\n{out.getvalue()}") from exc
