"""The set-ups the tests share, built from the factories on the real boundaries and KLE plan.

- `roads_world`: Ballerup served, one category (pothole) and one department for roads.
- `two_municipalities`: Ballerup and København served with pothole, litter and playground,
  roads routed per municipality and Måløv (2760) to its own roads department.
- `staff_world`: Ballerup (roads, Måløv roads, nature) and København (roads), with a user in
  every role: the triage, dashboard, admin and socket tests act as these people.
"""

from __future__ import annotations

from typing import Any

from maps.models import Area
from reports.models import KleSubject
from tests.reports.factories import (
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    member,
    served_municipality,
)


def roads_world(*, email: str = "vej@ballerup.example.dk") -> dict[str, Any]:
    municipality = served_municipality("0151")
    CategoryFactory(municipality=municipality)
    roads = DepartmentFactory(municipality=municipality, name="Vej og Park", email=email)
    RoutingRuleFactory(municipality=municipality, kle_prefix="05", department=roads)
    return {"municipality": municipality, "ballerup": municipality, "roads": roads}


def two_municipalities() -> dict[str, Any]:
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
                       area=Area.objects.get(kind=Area.Kind.DISTRICT, code="2760"))
    cph_roads = DepartmentFactory(municipality=copenhagen, name="Vejdrift")
    RoutingRuleFactory(municipality=copenhagen, kle_prefix="05", department=cph_roads)
    return {"ballerup": ballerup, "copenhagen": copenhagen, "roads": roads,
            "maaloev": maaloev, "cph_roads": cph_roads, "cph": cph_roads}


def staff_world() -> dict[str, Any]:
    ballerup = served_municipality("0151")
    copenhagen = served_municipality("0101")
    roads_kle = KleSubject.objects.get(number="05.01.08")
    park_kle = KleSubject.objects.get(number="04.03.00")
    for municipality in (ballerup, copenhagen):
        CategoryFactory(municipality=municipality, code="pothole", kle=roads_kle,
                        expected_handling_hours=48)
        CategoryFactory(municipality=municipality, code="playground", name="Legeplads",
                        kle=park_kle)
    roads = DepartmentFactory(municipality=ballerup, name="Vej og Park", email="vej@b.dk")
    maaloev = DepartmentFactory(municipality=ballerup, name="Vej og Park, Måløv")
    nature = DepartmentFactory(municipality=ballerup, name="Natur og Miljø", email="natur@b.dk")
    RoutingRuleFactory(municipality=ballerup, kle_prefix="05", department=roads)
    RoutingRuleFactory(municipality=ballerup, kle_prefix="05", department=maaloev,
                       area=Area.objects.get(kind=Area.Kind.DISTRICT, code="2760"))
    RoutingRuleFactory(municipality=ballerup, kle_prefix="04", department=nature)
    cph = DepartmentFactory(municipality=copenhagen, name="Vejdrift")
    RoutingRuleFactory(municipality=copenhagen, department=cph)
    return {
        "ballerup": ballerup, "copenhagen": copenhagen, "roads": roads, "maaloev": maaloev,
        "nature": nature, "cph": cph,
        "caseworker": member("vej", "caseworker", roads),
        "colleague": member("kollega", "caseworker", roads),
        "outsider": member("natur", "caseworker", nature),
        "lead": member("leder", "department_lead", roads),
        "admin": member("kommune", "municipality_admin", municipality=ballerup),
        "cph_worker": member("kbh", "caseworker", cph),
    }
