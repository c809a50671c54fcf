"""A small staff set-up shared by the triage and dashboard tests: Ballerup with two
departments (roads, nature), København with one, and a user in each role."""

from __future__ import annotations

from django.contrib.auth import get_user_model

from maps.models import Area
from reports.models import KleSubject, StaffMembership
from tests.reports.factories import (
    CategoryFactory,
    DepartmentFactory,
    RoutingRuleFactory,
    served_municipality,
)

PASSWORD = "test-password-1"


def make_staff_world() -> dict:
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
    users = get_user_model().objects

    def member(username, role, department=None, municipality=ballerup):
        user = users.create_user(username, f"{username}@example.dk", PASSWORD)
        StaffMembership.objects.create(user=user, municipality=municipality,
                                       department=department, role=role)
        return user

    return {
        "ballerup": ballerup, "copenhagen": copenhagen, "roads": roads, "maaloev": maaloev,
        "nature": nature, "cph": cph,
        "caseworker": member("vej", "caseworker", roads),
        "colleague": member("kollega", "caseworker", roads),
        "outsider": member("natur", "caseworker", nature),
        "lead": member("leder", "department_lead", roads),
        "admin": member("kommune", "municipality_admin"),
        "cph_worker": member("kbh", "caseworker", cph, copenhagen),
    }
