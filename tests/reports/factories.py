"""Factories for reports and staff. Reports themselves are filed through the service, never
forged; the usual set-ups built from these are in tests/reports/worlds.py."""

from __future__ import annotations

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.gis.geos import Point

from reports import services
from reports.models import (
    Category,
    Department,
    KleSubject,
    Municipality,
    Report,
    RoutingRule,
    StaffMembership,
)
from tests.maps.factories import municipality_area

# Well inside the real boundaries (DAGI 2014).
BALLERUP_TOWN = (12.3633, 55.7300)      # 2750 Ballerup
MAALOEV = (12.3180, 55.7480)            # 2760 Måløv
COPENHAGEN_CITY = (12.5700, 55.6790)    # Indre By
NOERREBRO = (12.5450, 55.6950)          # Nørrebro
ODENSE = (10.3880, 55.3960)             # a municipality not served in tests

PASSWORD = "test-password-1"


class MunicipalityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Municipality
        django_get_or_create = ("code",)

    code = "0151"
    name = factory.LazyAttribute(lambda o: municipality_area(o.code).name + " Kommune")
    area = factory.LazyAttribute(lambda o: municipality_area(o.code))


class DepartmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Department

    municipality = factory.SubFactory(MunicipalityFactory)
    name = factory.Sequence(lambda n: f"Department {n}")


class CategoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Category

    municipality = factory.SubFactory(MunicipalityFactory)
    code = "pothole"
    name = "Hul i vejen"
    kle = factory.LazyFunction(lambda: KleSubject.objects.get(number="05.01.08"))


class RoutingRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = RoutingRule

    municipality = factory.SubFactory(MunicipalityFactory)
    kle_prefix = "05"
    department = factory.SubFactory(
        DepartmentFactory, municipality=factory.SelfAttribute("..municipality")
    )


def served_municipality(code: str = "0151", *, default: str = "Borgerservice") -> Municipality:
    """A served municipality with a default department."""
    municipality = MunicipalityFactory(code=code)
    municipality.default_department = DepartmentFactory(municipality=municipality, name=default)
    municipality.save()
    return municipality


def file_report(
    *, lon_lat: tuple[float, float] = BALLERUP_TOWN, category: str = "pothole",
    description: str = "Hul i asfalten", **kwargs
) -> Report:
    return services.report_create(
        location=Point(*lon_lat, srid=4326), category_code=category, description=description,
        **kwargs,
    )


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.dk")
    password = factory.django.Password(PASSWORD)


class StaffMembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = StaffMembership

    user = factory.SubFactory(UserFactory)
    municipality = factory.SubFactory(MunicipalityFactory)
    department = None
    role = StaffMembership.Role.CASEWORKER


def member(username: str, role: str, department: Department | None = None,
           municipality: Municipality | None = None) -> AbstractBaseUser:
    """A user with one membership: in `department`'s municipality unless one is given."""
    municipality = municipality or department.municipality  # type: ignore[union-attr]
    membership = StaffMembershipFactory(user__username=username, municipality=municipality,
                                        department=department, role=role)
    return membership.user


def refusals_through_both_apis(client, lon_lat: tuple[float, float], category: str
                               ) -> tuple[str, str]:
    """File a report through REST and through Open311 (with a new API key), expecting
    both to refuse it: (REST's message for `category`, Open311's description)."""
    from reports.api.keys import api_key_issue
    from reports.models import ApiClient

    lon, lat = lon_lat
    rest = client.post("/api/v1/reports/", {
        "location": {"type": "Point", "coordinates": [lon, lat]}, "category": category,
        "description": "Hul"}, content_type="application/json")
    assert rest.status_code == 400, rest.content
    key = api_key_issue(client=ApiClient.objects.create(name="App"))
    open311 = client.post("/open311/v2/requests.json", {
        "api_key": key, "service_code": category, "lat": lat, "long": lon,
        "description": "Hul"})
    assert open311.status_code == 400, open311.content
    return rest.json()["errors"]["category"][0], open311.json()[0]["description"]
