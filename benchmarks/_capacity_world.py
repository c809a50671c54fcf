"""The national installation benchmarks/capacity.py loads: every municipality set up (the
98 DAGI boundaries the demo imports, each with the demo's categories and three
departments), reports seeded across all of them, and a generated address file in DAWA's
CSV layout imported through the real importer (maps_import_addresses, streaming).

The real national address file (~3.5 million rows, from DAWA/Datafordeleren) cannot be
downloaded on a machine without internet, so the file is generated: the same columns as
DAWA's export, street names drawn from common Danish parts, house numbers 1..N, points
around streets placed inside each municipality's boundary. Both are kept between runs (var/bench/).
"""

from __future__ import annotations

import csv
import gzip
import os
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

import shapely
from _setup import ROOT, seed_reports

DEPARTMENTS = ["Vej og Park", "Natur og Miljø", "Borgerservice"]
FIRST = ["Birke", "Skov", "Strand", "Kirke", "Mølle", "Bøge", "Ege", "Hede", "Enghave", "Sø",
         "Toft", "Rose", "Lille", "Store", "Nørre", "Sønder", "Vester", "Øster", "Hav", "Bakke",
         "Ny", "Gammel", "Præste", "Skole", "Ahorn", "Kastanje", "Lærke", "Vibe", "Agern",
         "Hasle", "Rønne", "Fyrre", "Granly", "Solvang", "Marie", "Frederiks", "Christians",
         "Kongens", "Dronning", "Prins"]
LAST = ["vej", "gade", "allé", "stræde", "vænget", "parken", "bakken", "høj", "toften", "stien",
        "haven", "lund", "marken", "engen", "løkken"]
HEADER = ["kommunekode", "vejkode", "vejnavn", "husnr", "postnr", "postnrnavn", "lon", "lat",
          "etrs89_x", "etrs89_y", "adgangspunkt_bkid", "husnummer_bkid", "statuskode"]


def setup_municipalities() -> list[tuple[int, tuple[float, float, float, float]]]:
    """Every municipality area becomes a served municipality (the demo serves two); returns
    (municipality id, bounding box) for each."""
    from maps.models import Area
    from reports.importers import demo
    from reports.models import KleSubject, Municipality

    kle = {s.number: s for s in KleSubject.objects.filter(
        number__in=[c.kle for c in demo.CATEGORIES])}
    have = set(Municipality.objects.values_list("code", flat=True))
    for area in Area.objects.filter(kind=Area.Kind.MUNICIPALITY).exclude(code="0411"):
        if area.code not in have:
            demo._setup_municipality({"code": area.code, "name": area.name,
                                      "departments": DEPARTMENTS, "default": "Borgerservice",
                                      "rules": []}, kle)
    return [(m.pk, m.area.geom.extent) for m in Municipality.objects.select_related("area")]


def seed_national(target: int) -> int:
    """Reports across every municipality (each inside its own bounding box, with its own
    categories and departments) until the table holds `target`."""
    return seed_reports(target, places=setup_municipalities())


def address_file(rows: int) -> Path:
    """A gzipped DAWA-layout CSV of `rows` addresses, made once and kept."""
    from maps.models import Area

    path = ROOT / "var" / "bench" / f"addresses-{rows}.csv.gz"
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    areas = list(Area.objects.filter(kind=Area.Kind.MUNICIPALITY).exclude(code="0411")
                 .order_by("code"))
    rng = random.Random(3)
    per_area = rows // len(areas)
    started = time.perf_counter()
    partial = path.with_suffix(".partial")
    with gzip.open(partial, "wt", newline="", encoding="utf-8", compresslevel=1) as handle:
        out = csv.writer(handle)
        out.writerow(HEADER)
        written = 0
        for index, area in enumerate(areas):
            x0, y0, x1, y1 = area.geom.extent
            land = shapely.from_wkb(bytes(area.geom.wkb))
            shapely.prepare(land)
            count = per_area if index < len(areas) - 1 else rows - written
            postcode = f"{1000 + index * 90:04d}"
            street, house = 0, 0
            for _ in range(count):
                if house == 0 or house >= rng.randint(20, 200):
                    street, house = street + 1, 0
                    name = f"{rng.choice(FIRST)}{rng.choice(LAST)}"
                    if street > 1000:  # more streets than parts: numbered ones
                        name = f"{name} {street // 1000}"
                    sx, sy = rng.uniform(x0, x1), rng.uniform(y0, y1)
                    while not shapely.contains_xy(land, sx, sy):  # a street on land
                        sx, sy = rng.uniform(x0, x1), rng.uniform(y0, y1)
                house += 1
                lon = min(max(sx + rng.gauss(0, 0.002), x0), x1)
                lat = min(max(sy + rng.gauss(0, 0.001), y0), y1)
                out.writerow([area.code, f"{street % 10000:04d}", name, str(house), postcode,
                              area.name, f"{lon:.7f}", f"{lat:.7f}", "", "", "", "", "1"])
            written += count
            if index % 10 == 9:
                print(f"\r  writing {path.name}: {written:,}/{rows:,}", end="", flush=True)
    partial.rename(path)
    print(f" ({time.perf_counter() - started:.0f} s)")
    return path


def import_addresses(path: Path, database_url: str) -> dict:
    """maps_import_addresses in a process of its own: seconds, its peak memory, summary."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "maps_import_addresses", str(path), "--verbosity", "0"],
        # DEBUG=0 as an operator runs it: with DEBUG, Django keeps the last 9,000 statements.
        cwd=ROOT, env=dict(os.environ, DATABASE_URL=database_url, DEBUG="0"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    out, err = process.communicate()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # after the wait: includes it
    if process.returncode != 0:
        sys.exit(f"address import failed: {err[-2000:]}")
    return {"seconds": time.perf_counter() - started, "peak_mb": usage.ru_maxrss / 1024,
            "summary": out.strip().splitlines()[-1]}


def address_count() -> int:
    from maps.models import Address

    return Address.objects.count()
