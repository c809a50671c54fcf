from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from reports.models import KleSubject
from tests.maps.factories import district
from tests.reports.factories import (
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)


@pytest.fixture
def api() -> APIClient:
    return APIClient()


@pytest.fixture
def world(db):
    """Ballerup and København served, with a few categories and rules."""
    ballerup = served_municipality("0151")
    copenhagen = served_municipality("0101")
    kle = {n: KleSubject.objects.get(number=n) for n in ("05.01.08", "05.07.01", "04.03.00")}
    for municipality in (ballerup, copenhagen):
        CategoryFactory(municipality=municipality, code="pothole", kle=kle["05.01.08"])
        CategoryFactory(municipality=municipality, code="litter", name="Affald",
                        kle=kle["05.07.01"])
        CategoryFactory(municipality=municipality, code="playground", name="Legeplads",
                        kle=kle["04.03.00"], group="Parker")
    CategoryFactory(municipality=ballerup, code="closed", name="Lukket", active=False)
    roads = DepartmentFactory(municipality=ballerup, name="Vej og Park")
    RoutingRuleFactory(municipality=ballerup, kle_prefix="05", department=roads)
    maaloev = DepartmentFactory(municipality=ballerup, name="Vej og Park, Måløv")
    RoutingRuleFactory(municipality=ballerup, kle_prefix="05", department=maaloev,
                       area=district("0151", "2760"))
    cph_roads = DepartmentFactory(municipality=copenhagen, name="Vejdrift")
    RoutingRuleFactory(municipality=copenhagen, kle_prefix="05", department=cph_roads)
    return {"ballerup": ballerup, "copenhagen": copenhagen, "roads": roads,
            "maaloev": maaloev, "cph_roads": cph_roads}
