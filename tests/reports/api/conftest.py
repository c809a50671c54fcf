from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.reports.worlds import two_municipalities


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def world(db):
    """Ballerup and København served, with a few categories and rules."""
    return two_municipalities()
