"""Property-based run of schemathesis against our own OpenAPI schema: whatever it sends
(within a bounded number of examples per operation), the API never answers with a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

APP = get_wsgi_application()
schema = schemathesis.openapi.from_wsgi("/api/v1/schema/", APP)


@pytest.fixture(autouse=True)
def keep_test_transaction(world, settings, tmp_path):
    """Like Django's test client: requests must not close the test's connection (and with
    it the transaction that holds the test data)."""
    settings.MEDIA_ROOT = tmp_path
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=25, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case):
    response = case.call()
    case.validate_response(response, checks=[not_a_server_error])
