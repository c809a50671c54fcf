"""Demo data: real KLE plan, real boundaries and addresses, plausible departments and reports.

Ballerup (0151) with its six postal areas as districts and København (0101) with its ten
bydele. Reports are filed and moved through the same services the APIs use, so their
timelines and routing are real.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

import shapely
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from shapely.prepared import prep

from maps.importers.addresses import import_addresses
from maps.importers.areas import import_areas
from maps.models import Address, Area
from reports import services
from reports.importers.assets import import_assets
from reports.importers.kle import import_kle
from reports.lifecycle import Status
from reports.models import (
    AssetType,
    BodyRule,
    Category,
    CategoryQuestion,
    Department,
    KleSubject,
    Municipality,
    Notification,
    Report,
    ResponseTemplate,
    ResponsibleBody,
    RetentionRule,
    RoutingRule,
    StaffMembership,
    Webhook,
)

DATA = Path(settings.BASE_DIR) / "data"
DEMO_WEBHOOK_URL = "http://127.0.0.1:8099/webhook"

KLE_FILE = DATA / "kle" / "KLE-Emneplan_Version2-0_2015-08-01.xml.gz"
MUNICIPALITIES_FILE = DATA / "boundaries" / "dagi-2014" / "kommuner.geojson.gz"
BALLERUP_DISTRICTS_FILE = DATA / "boundaries" / "ballerup" / "postnumre.geojson"
COPENHAGEN_DISTRICTS_FILE = DATA / "boundaries" / "copenhagen" / "bydele.geojson.gz"
ADDRESSES_FILE = DATA / "addresses" / "addresses_dawa_testdata_wgs84.csv.gz"
# A road line drawn by hand for the demo (data/README.md): not Vejdirektoratet's data.
STATE_ROAD_FILE = DATA / "roads" / "demo-statsvej.geojson"
STATE_ROAD_BUFFER_M = 25
# Street lights GENERATED for the demo (data/assets/make_demo_street_lights.py says how).
STREET_LIGHTS_FILE = DATA / "assets" / "ballerup-gadelys-demo.geojson.gz"


@dataclass(frozen=True)
class CategorySpec:
    code: str
    name: str
    kle: str
    group: str
    description: str
    anonymous_allowed: bool = True
    handling_hours: int = 120


CATEGORIES = [
    CategorySpec("pothole", "Hul i vejen", "05.01.08", "Veje og fortove",
                 "Huller og skader i asfalt, fortov eller cykelsti."),
    CategorySpec("street-light", "Gadelys virker ikke", "05.01.12", "Veje og fortove",
                 "Gadelamper der er slukkede, blinker eller lyser om dagen.",
                 handling_hours=72),
    CategorySpec("blocked-drain", "Tilstoppet vejbrønd", "05.01.13", "Veje og fortove",
                 "Riste og vejbrønde der er tilstoppede, så vandet står på vejen."),
    CategorySpec("snow-ice", "Sne og is", "05.07.02", "Renhold og vintertjeneste",
                 "Manglende snerydning eller saltning på kommunale veje og stier."),
    CategorySpec("litter", "Affald og henkastet skrald", "05.07.01", "Renhold og vintertjeneste",
                 "Henkastet affald, overfyldte skraldespande, storskrald på vejen."),
    CategorySpec("park-vandalism", "Hærværk i park", "04.01.20", "Parker og natur",
                 "Hærværk og graffiti i parker og grønne områder."),
    CategorySpec("playground", "Legeplads", "04.03.00", "Parker og natur",
                 "Ødelagte eller farlige legeredskaber på offentlige legepladser."),
    CategorySpec("rats", "Rotter", "09.13.01", "Skadedyr",
                 "Rotter set udendørs eller i bygninger. Kommunen kontakter dig.",
                 anonymous_allowed=False, handling_hours=48),
    CategorySpec("signs-markings", "Skilte og afmærkning", "05.13.01", "Veje og fortove",
                 "Væltede eller manglende skilte, slidte striber og afmærkninger."),
    CategorySpec("abandoned-vehicle", "Efterladt bil eller cykel", "05.14.09",
                 "Veje og fortove", "Biler, trailere og cykler efterladt på offentlig vej."),
    CategorySpec("public-toilet", "Offentligt toilet", "06.20.00", "Øvrigt",
                 "Lukkede, beskidte eller ødelagte offentlige toiletter."),
]

# Ready public replies for the dashboard: (title, status, text).
RESPONSE_TEMPLATES = [
    ("Modtaget", "acknowledged", "Tak for din henvendelse. Vi har modtaget den og ser på "
                                 "den hurtigst muligt."),
    ("Løst", "resolved", "Tak for din henvendelse. Problemet er nu løst."),
    ("Ikke kommunens", "referred", "Stedet hører ikke under kommunen. Vi har sendt din "
                                   "henvendelse videre til den rette ejer."),
    ("Afvist: privat område", "rejected", "Stedet er privat, så kommunen kan ikke gøre noget "
                                          "ved det. Kontakt venligst grundejeren."),
]

# Per-category questions: (code, question, datatype, required, list values).
QUESTIONS: dict[str, list[tuple[str, str, str, bool, list[dict[str, str]]]]] = {
    "pothole": [("size", "Hvor stort er hullet?", "singlevaluelist", False,
                 [{"key": "small", "name": "Mindre end en tallerken"},
                  {"key": "large", "name": "Større end en tallerken"}]),
                ("bike_lane", "Er det på cykelstien?", "singlevaluelist", False,
                 [{"key": "yes", "name": "Ja"}, {"key": "no", "name": "Nej"}])],
    "street-light": [("pole_number", "Nummer på lygtepælen (hvis du kan se det)", "string",
                      False, [])],
}

DESCRIPTIONS = {
    "pothole": ["Dybt hul i asfalten, cyklister må svinge ud i vejen.",
                "Flere huller i kørebanen efter frosten.",
                "Fortovsflisen er sunket, man snubler let."],
    "street-light": ["Gadelampen har været slukket i en uge.",
                     "Lampen blinker hele natten.", "Tre lamper i træk er slukket på stien."],
    "blocked-drain": ["Risten er helt tilstoppet af blade, vandet står over kantstenen.",
                      "Vejbrønden lugter og løber ikke af."],
    "snow-ice": ["Cykelstien er ikke saltet, meget glat i morges.",
                 "Sneen er skubbet op på fortovet, så man ikke kan komme forbi med barnevogn."],
    "litter": ["Overfyldt skraldespand ved busstoppestedet.",
               "Nogen har smidt en sofa og sække med affald ved vejen.",
               "Meget glasskår på cykelstien."],
    "park-vandalism": ["Graffiti på bænkene og pavillonen i parken.",
                       "Bænken er revet op og smidt i søen."],
    "playground": ["Gyngen er knækket, skarpe kanter.",
                   "Der mangler faldunderlag under klatrestativet."],
    "rats": ["Rotter set ved containerne flere aftener i træk.",
             "Rottehul ved kloakdækslet i haven ved siden af fortovet."],
    "signs-markings": ["Vigepligtskiltet er væltet.", "Fodgængerfeltets striber er næsten væk."],
    "abandoned-vehicle": ["Cykel uden hjul har stået låst til lygtepælen i månedsvis.",
                          "Bil uden nummerplader holder på p-pladsen."],
    "public-toilet": ["Toilettet er låst i åbningstiden.",
                      "Der er intet papir og vasken er i stykker."],
}

REPORTERS = [("Mette Hansen", "mette.hansen@example.dk", "+45 20 11 22 33"),
             ("Lars Nielsen", "lars.nielsen@example.dk", ""),
             ("Sofie Jensen", "", "+45 31 44 55 66"),
             ("Ahmad Rahimi", "ahmad.rahimi@example.dk", ""),
             ("", "", "")]

# (municipality code, name, departments, default department, rules)
# rules: (kle prefix, district code or None, department)
class MunicipalitySpec(TypedDict):
    code: str
    name: str
    departments: list[str]
    default: str  # the department of reports no rule routes
    rules: list[tuple[str, str | None, str]]  # (KLE prefix, district code or None, department)


BALLERUP: MunicipalitySpec = {
    "code": "0151", "name": "Ballerup Kommune",
    "departments": ["Vej og Park", "Vej og Park, Måløv", "Natur og Miljø", "Affald og Genbrug",
                    "Ejendomscenter", "Borgerservice"],
    "default": "Borgerservice",
    "rules": [("05", None, "Vej og Park"), ("05", "2760", "Vej og Park, Måløv"),
              ("05.07.01", None, "Affald og Genbrug"), ("04", None, "Natur og Miljø"),
              ("09.13", None, "Natur og Miljø"), ("06.20", None, "Ejendomscenter")],
}
COPENHAGEN_DISTRICT_UNITS = {
    "1": "Indre By", "2": "Østerbro", "3": "Nørrebro", "4": "Vesterbro/Kongens Enghave",
    "5": "Valby", "6": "Vanløse", "7": "Brønshøj-Husum", "8": "Bispebjerg", "9": "Amager Øst",
    "10": "Amager Vest",
}
COPENHAGEN: MunicipalitySpec = {
    "code": "0101", "name": "Københavns Kommune",
    "departments": ["Vejdrift, central", "Park og Natur", "Rottebekæmpelse", "Borgerservice",
                    *[f"Driftsenhed {name}" for name in COPENHAGEN_DISTRICT_UNITS.values()]],
    "default": "Borgerservice",
    "rules": [("05", None, "Vejdrift, central"), ("04", None, "Park og Natur"),
              ("09.13", None, "Rottebekæmpelse"),
              *[("05", code, f"Driftsenhed {name}")
                for code, name in COPENHAGEN_DISTRICT_UNITS.items()]],
}

STATUS_PATHS = [
    ([], 30), ([Status.ACKNOWLEDGED], 18), ([Status.ACKNOWLEDGED, Status.IN_PROGRESS], 14),
    ([Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED], 18), ([Status.RESOLVED], 5),
    ([Status.REJECTED], 5), ([Status.ACKNOWLEDGED, Status.DUPLICATE], 5), ([Status.REFERRED], 5),
]
PUBLIC_TEXTS = {
    Status.ACKNOWLEDGED: "Tak for din henvendelse. Vi har modtaget den og kigger på det.",
    Status.IN_PROGRESS: "Opgaven er sendt til vores driftshold.",
    Status.RESOLVED: "Det er nu udbedret. Tak for hjælpen.",
    Status.REJECTED: "Stedet er privat fællesvej; grundejerne har ansvaret.",
    Status.REFERRED: "Sagen hører under Vejdirektoratet, som vi har sendt den videre til.",
    Status.DUPLICATE: "Det samme problem er allerede meldt; vi følger op på den første.",
}


def demo_loaded() -> bool:
    return Report.objects.filter(source=Report.Source.DEMO).exists()


def _setup_municipality(spec: MunicipalitySpec, categories: dict[str, KleSubject]) -> Municipality:
    area = Area.objects.get(kind=Area.Kind.MUNICIPALITY, code=spec["code"])
    municipality, _ = Municipality.objects.update_or_create(
        code=spec["code"], defaults={"name": spec["name"], "area": area, "active": True}
    )
    departments = {}
    for name in spec["departments"]:
        departments[name], _ = Department.objects.get_or_create(
            municipality=municipality, name=name,
            defaults={"email": f"{_slug(name)}@{_slug(spec['name'])}.example.dk"},
        )
    municipality.default_department = departments[spec["default"]]
    municipality.save(update_fields=["default_department"])
    for cat in CATEGORIES:
        Category.objects.update_or_create(
            municipality=municipality, code=cat.code,
            defaults={"name": cat.name, "kle": categories[cat.kle], "group": cat.group,
                      "description": cat.description,
                      "anonymous_allowed": cat.anonymous_allowed, "active": True,
                      "expected_handling_hours": cat.handling_hours},
        )
    # An archive plan to start from (the personal-data page shows it): contact data of
    # resolved reports for five years, of the rest for one; photos for one year.
    for status, contact_days in (("resolved", 1826), ("rejected", 365), ("duplicate", 365),
                                 ("referred", 365)):
        RetentionRule.objects.get_or_create(municipality=municipality, status=status,
                                            defaults={"contact_days": contact_days,
                                                      "photo_days": 365})
    for title, status, text in RESPONSE_TEMPLATES:
        ResponseTemplate.objects.get_or_create(municipality=municipality, title=title,
                                               defaults={"status": status, "text": text})
    for code, questions in QUESTIONS.items():
        category = Category.objects.get(municipality=municipality, code=code)
        for order, (qcode, text, datatype, required, values) in enumerate(questions, start=1):
            CategoryQuestion.objects.update_or_create(
                category=category, code=qcode,
                defaults={"question": text, "datatype": datatype, "required": required,
                          "order": order, "values": values},
            )
    for prefix, district, department in spec["rules"]:
        rule_area = (
            Area.objects.get(kind=Area.Kind.DISTRICT, parent=municipality.area, code=district)
            if district else None)
        RoutingRule.objects.get_or_create(
            municipality=municipality, kle_prefix=prefix, area=rule_area,
            department=departments[department],
        )
    return municipality


def _slug(text: str) -> str:
    table = str.maketrans({"æ": "ae", "ø": "oe", "å": "aa", " ": "-", ",": "", "/": "-"})
    return text.lower().translate(table)


def _random_points(area: Area, count: int, rng: random.Random) -> list[Point]:
    shape = shapely.from_wkb(bytes(area.geom.wkb))
    prepared = prep(shape)
    min_x, min_y, max_x, max_y = shape.bounds
    points: list[Point] = []
    while len(points) < count:
        x, y = rng.uniform(min_x, max_x), rng.uniform(min_y, max_y)
        if prepared.contains(shapely.Point(x, y)):
            points.append(Point(round(x, 6), round(y, 6), srid=4326))
    return points


def _file_reports(municipality: Municipality, points: list[tuple[Point, str]],
                  rng: random.Random, now: dt.datetime) -> int:
    filed: list[Report] = []
    for point, address in points:
        category = rng.choice(CATEGORIES)
        name, email, phone = rng.choice(REPORTERS)
        if not category.anonymous_allowed and not (email or phone):
            name, email, phone = REPORTERS[0]
        created = now - dt.timedelta(days=rng.uniform(1, 120), minutes=rng.randint(0, 600))
        report = services.report_create(
            location=point, category_code=category.code,
            description=rng.choice(DESCRIPTIONS[category.code]), address=address,
            reporter=services.Reporter(name=name, email=email, phone=phone),
            source=Report.Source.DEMO, created_at=created,
        )
        path = rng.choices([p for p, _ in STATUS_PATHS], [w for _, w in STATUS_PATHS])[0]
        at = created
        for status in path:
            at = min(at + dt.timedelta(hours=rng.uniform(2, 96)), now)
            duplicate_of = None
            if status == Status.DUPLICATE:
                earlier = [r for r in filed if r.status != Status.DUPLICATE]
                if not earlier:
                    break
                duplicate_of = rng.choice(earlier).pk
            report = services.report_transition(
                report_id=report.pk, to_status=status, public_text=PUBLIC_TEXTS[status],
                duplicate_of_id=duplicate_of, at=at,
            )
        filed.append(report)
    return len(filed)


STATE_ROADS = {
    "name": "Vejdirektoratet", "kind": ResponsibleBody.Kind.STATE_ROADS,
    # Not their real address: nobody is to be mailed from a demo.
    "email": "vejdirektoratet@example.dk", "phone": "72 44 33 33",
    "link": "https://www.vejdirektoratet.dk/",
    "text_da": "Vejen her er en statsvej, og den passer Vejdirektoratet. Meld huller, skilte "
               "og glat føre direkte til dem.",
    "text_sv": "Vägen här är en statlig väg som Vejdirektoratet sköter. Anmäl hål, skyltar "
               "och halka direkt till dem.",
    "text_en": "This is a state road, looked after by Vejdirektoratet (the Danish Road "
               "Directorate). Report potholes, signs and ice to them directly.",
}


def _demo_bodies(ballerup: Municipality) -> None:
    """The state road through Ballerup: road subjects (KLE 05) are stopped before the form
    with Vejdirektoratet's number; street lights there (05.01.12) are forwarded to them."""
    road = Area.objects.get(kind=Area.Kind.ROAD_OWNER, code="demo-statsvej", parent=None)
    state, _ = ResponsibleBody.objects.update_or_create(
        name=STATE_ROADS["name"], defaults={k: v for k, v in STATE_ROADS.items()
                                            if k != "name"})
    state.areas.add(road)
    for prefix, action in (("05", BodyRule.Action.STOP),
                           ("05.01.12", BodyRule.Action.FORWARD)):
        BodyRule.objects.get_or_create(municipality=ballerup, body=state, kle_prefix=prefix,
                                       defaults={"action": action})


def _demo_street_lights(ballerup: Municipality, rng: random.Random, now: dt.datetime,
                        log) -> None:
    """Ballerup's street lights as an asset type of the street-light category, and a few
    open reports on them (so that a citizen is offered to follow one)."""
    lights, _ = AssetType.objects.update_or_create(
        municipality=ballerup, code="street-light", defaults={
            "name": "Gadelys", "select_distance_m": 50, "fields": [
                {"key": "armatur", "label": "Armatur"}, {"key": "watt", "label": "Effekt (W)"},
                {"key": "mast_hoejde_m", "label": "Masthøjde (m)"}]})
    lights.categories.add(Category.objects.get(municipality=ballerup, code="street-light"))
    log(import_assets(STREET_LIGHTS_FILE, municipality=ballerup.code, asset_type=lights.code,
                      id_field="id", label_field="label", dry_run=False
                      ).line("Street lights (generated)"))
    for asset in rng.sample(list(lights.assets.order_by("external_id")), 6):
        services.report_create(
            location=asset.location, category_code="street-light", asset_id=asset.pk,
            description=rng.choice(DESCRIPTIONS["street-light"]),
            reporter=services.Reporter(*rng.choice(REPORTERS[:2])),
            source=Report.Source.DEMO,
            created_at=now - dt.timedelta(days=rng.uniform(1, 20)))


def demo_password() -> str:
    """The demo accounts' password: DEMO_PASSWORD (script/server makes one per installation
    and keeps it in var/demo-password), else a new random one, printed when the demo loads.
    Never a password written in the code, which every installation would share."""
    return settings.DEMO_PASSWORD or secrets.token_urlsafe(12)


def _demo_users(municipalities: dict[str, Municipality]) -> list[str]:
    User = get_user_model()
    made = []
    password = demo_password()
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@example.dk", password)
        made.append(f"admin / {password} (superuser)")
    ballerup = municipalities["0151"]
    staff = [("ballerup.vej", "Vej og Park", StaffMembership.Role.CASEWORKER),
             ("ballerup.vej2", "Vej og Park", StaffMembership.Role.CASEWORKER),
             ("ballerup.natur", "Natur og Miljø", StaffMembership.Role.CASEWORKER),
             ("ballerup.leder", "Vej og Park", StaffMembership.Role.DEPARTMENT_LEAD)]
    for username, department, role in staff:
        user, created = User.objects.get_or_create(username=username, defaults={"is_staff": True})
        if created:
            user.set_password(password)
            user.save()
            made.append(f"{username} / {password} ({role}, {department})")
        StaffMembership.objects.get_or_create(
            user=user, municipality=ballerup,
            department=Department.objects.get(municipality=ballerup, name=department),
            defaults={"role": role},
        )
    return made


def load_demo(*, seed: int = 2026, reports_per_municipality: int = 150, log=print) -> None:
    """Import the shipped data and create the demo set-up and reports (all or nothing)."""
    with transaction.atomic():
        log(import_kle(KLE_FILE).line("KLE subjects"))
        log(import_areas(MUNICIPALITIES_FILE, kind=Area.Kind.MUNICIPALITY,
                         code_field="KOMKODE", name_field="KOMNAVN").line("Municipality areas"))
        log(import_areas(BALLERUP_DISTRICTS_FILE, kind=Area.Kind.DISTRICT, code_field="nr",
                         name_field="navn", parent_code="0151").line("Ballerup districts"))
        log(import_areas(COPENHAGEN_DISTRICTS_FILE, kind=Area.Kind.DISTRICT,
                         code_field="bydel_nr", name_field="navn",
                         parent_code="0101").line("Copenhagen districts"))
        log(import_addresses(ADDRESSES_FILE).line("Addresses"))
        kle = {s.number: s for s in KleSubject.objects.filter(
            number__in=[c.kle for c in CATEGORIES])}
        municipalities = {spec["code"]: _setup_municipality(spec, kle)
                          for spec in (BALLERUP, COPENHAGEN)}
        rng = random.Random(seed)
        now = timezone.now()
        for code, municipality in municipalities.items():
            # Real addresses where the shipped file has them, random points elsewhere.
            addresses = list(Address.objects.filter(municipality_code=code))
            points = [(a.location, a.label) for a in addresses for _ in range(3)]
            points += [(p, "") for p in _random_points(
                municipality.area, reports_per_municipality - len(points), rng)]
            count = _file_reports(municipality, points, rng, now)
            log(f"{municipality.name}: {count} reports filed")
        _demo_street_lights(municipalities["0151"], rng, now, log)
        # After the sample reports: some lie on the road, where a pothole is now stopped.
        log(import_areas(STATE_ROAD_FILE, kind=Area.Kind.ROAD_OWNER, code_field="code",
                         name_field="name", line_buffer_m=STATE_ROAD_BUFFER_M
                         ).line("State road (a demo line)"))
        _demo_bodies(municipalities["0151"])
        for line in _demo_users(municipalities):
            log(f"Demo account {line}")
        # A back-office system for Ballerup: script/server runs a receiver for it.
        Webhook.objects.get_or_create(
            municipality=municipalities["0151"], url=DEMO_WEBHOOK_URL,
            defaults={"secret": settings.DEMO_WEBHOOK_SECRET or secrets.token_urlsafe(24),
                      "event_types": ["report.created", "report.updated"]})
        # The sample reports are history: nobody is to be mailed about them now.
        Notification.objects.filter(report__source=Report.Source.DEMO).delete()
