"""Import DAWA address points (the CSV layout of DanmarksAdresser's test data and exports)."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from django.contrib.gis.geos import Point
from django.db import transaction

from geoservice.lib.importing import ImportFailed, ImportSummary, Progress, no_progress, open_text
from maps.geo import valid_lon_lat
from maps.models import Address

REQUIRED_COLUMNS = ("kommunekode", "vejkode", "vejnavn", "husnr", "postnr", "postnrnavn", "lon",
                    "lat")
BATCH = 2000


def address_search_text(street: str, house_number: str, postcode: str, postal_name: str) -> str:
    """The lower-cased text that address prefix search matches against."""
    text = f"{street} {house_number}, {postcode} {postal_name}"
    return " ".join(text.lower().split())


def _read(path: Path, progress: Progress) -> list[dict]:
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed(f"{path.name}: missing columns {', '.join(missing)}")
        rows, problems = [], []
        for line, row in enumerate(progress(reader, None, f"Reading {path.name}"), start=2):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
            except ValueError:
                problems.append(f"line {line}: lon/lat are not numbers")
                continue
            if not valid_lon_lat(lon, lat) or math.isnan(lon):
                problems.append(f"line {line}: lon/lat out of range")
                continue
            key = (row["kommunekode"].strip().zfill(4), row["vejkode"].strip().zfill(4),
                   row["husnr"].strip())
            if not all(key):
                problems.append(f"line {line}: empty kommunekode, vejkode or husnr")
                continue
            rows.append({
                "municipality_code": key[0],
                "street_code": key[1],
                "house_number": key[2],
                "street_name": row["vejnavn"].strip(),
                "postcode": row["postnr"].strip(),
                "postal_name": row["postnrnavn"].strip(),
                "lon": lon,
                "lat": lat,
            })
    if problems:
        raise ImportFailed(f"{path.name}: {len(problems)} bad rows: {'; '.join(problems[:10])}")
    return rows


def import_addresses(
    path: Path | str, *, dry_run: bool = False, progress: Progress = no_progress
) -> ImportSummary:
    """Create or update addresses keyed by (kommunekode, vejkode, husnr); all or nothing."""
    path = Path(path)
    rows = _read(path, progress)
    summary = ImportSummary(dry_run=dry_run)
    seen: set[tuple[str, str, str]] = set()
    with transaction.atomic():
        existing = {
            (a.municipality_code, a.street_code, a.house_number): a for a in Address.objects.all()
        }
        to_create, to_update = [], []
        for row in progress(rows, len(rows), "Writing addresses"):
            key = (row["municipality_code"], row["street_code"], row["house_number"])
            if key in seen:
                summary.skipped += 1
                continue
            seen.add(key)
            values = {
                "street_name": row["street_name"],
                "postcode": row["postcode"],
                "postal_name": row["postal_name"],
                "location": Point(row["lon"], row["lat"], srid=4326),
                "search_text": address_search_text(
                    row["street_name"], row["house_number"], row["postcode"], row["postal_name"]
                ),
            }
            address = existing.get(key)
            if address is None:
                to_create.append(Address(municipality_code=key[0], street_code=key[1],
                                         house_number=key[2], **values))
                continue
            changed = any(
                (getattr(address, name) != value) if name != "location"
                else not address.location.equals_exact(value, 1e-9)
                for name, value in values.items()
            )
            if changed:
                for name, value in values.items():
                    setattr(address, name, value)
                to_update.append(address)
            else:
                summary.unchanged += 1
        Address.objects.bulk_create(to_create, batch_size=BATCH)
        Address.objects.bulk_update(
            to_update, ["street_name", "postcode", "postal_name", "location", "search_text"],
            batch_size=BATCH,
        )
        summary.created, summary.updated = len(to_create), len(to_update)
        if summary.skipped:
            summary.notes.append(f"{summary.skipped} rows repeated an address already read")
        if dry_run:
            transaction.set_rollback(True)
    return summary
