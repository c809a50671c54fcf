"""Import DAWA address points (the CSV layout of DanmarksAdresser's test data and exports)."""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from pathlib import Path

from django.db import connection, transaction

from geoservice.lib.importing import ImportFailed, ImportSummary, Progress, no_progress, open_text
from maps.geo import valid_lon_lat

REQUIRED_COLUMNS = ("kommunekode", "vejkode", "vejnavn", "husnr", "postnr", "postnrnavn", "lon",
                    "lat")
BATCH = 5000


def address_search_text(street: str, house_number: str, postcode: str, postal_name: str) -> str:
    """The lower-cased text that address prefix search matches against."""
    text = f"{street} {house_number}, {postcode} {postal_name}"
    return " ".join(text.lower().split())


class _Problems:
    """Bad rows: how many, and the first few to name."""

    def __init__(self) -> None:
        self.count = 0
        self.first: list[str] = []

    def add(self, text: str) -> None:
        self.count += 1
        if len(self.first) < 10:
            self.first.append(text)


def _rows(path: Path, progress: Progress, problems: _Problems) -> Iterator[dict]:
    """The file's valid rows, one at a time; bad rows are counted in `problems`."""
    with open_text(path) as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in REQUIRED_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise ImportFailed(f"{path.name}: missing columns {', '.join(missing)}")
        for line, row in enumerate(progress(reader, None, f"Importing {path.name}"), start=2):
            try:
                lon, lat = float(row["lon"]), float(row["lat"])
            except ValueError:
                problems.add(f"line {line}: lon/lat are not numbers")
                continue
            if not valid_lon_lat(lon, lat) or math.isnan(lon):
                problems.add(f"line {line}: lon/lat out of range")
                continue
            key = (row["kommunekode"].strip().zfill(4), row["vejkode"].strip().zfill(4),
                   row["husnr"].strip())
            if not all(key):
                problems.add(f"line {line}: empty kommunekode, vejkode or husnr")
                continue
            street, postcode = row["vejnavn"].strip(), row["postnr"].strip()
            postal_name = row["postnrnavn"].strip()
            yield {
                "municipality_code": key[0], "street_code": key[1], "house_number": key[2],
                "street_name": street, "postcode": postcode, "postal_name": postal_name,
                "lon": lon, "lat": lat,
                "search_text": address_search_text(street, key[2], postcode, postal_name),
            }


# The addresses of this import already written (first row wins), kept in the database so
# that memory does not grow with the file (Denmark has ~3.5 million addresses).
_SEEN_TABLE = """
CREATE TEMPORARY TABLE address_import_seen (
    municipality_code varchar(4), street_code varchar(4), house_number varchar(12),
    PRIMARY KEY (municipality_code, street_code, house_number)
) ON COMMIT DROP
"""
_MARK_SEEN = """
INSERT INTO address_import_seen
SELECT * FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[])
ON CONFLICT DO NOTHING
RETURNING municipality_code, street_code, house_number
"""
# Created or updated in place by the DAWA key; a row that changed nothing is not written.
_UPSERT = """
INSERT INTO maps_address AS a (municipality_code, street_code, house_number, street_name,
                               postcode, postal_name, location, search_text)
SELECT m, s, h, street, postcode, postal_name,
       ST_SetSRID(ST_MakePoint(lon, lat), 4326), search_text
FROM unnest(%s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[], %s::varchar[],
            %s::varchar[], %s::float8[], %s::float8[], %s::varchar[])
     AS t(m, s, h, street, postcode, postal_name, lon, lat, search_text)
ON CONFLICT (municipality_code, street_code, house_number) DO UPDATE
SET street_name = EXCLUDED.street_name, postcode = EXCLUDED.postcode,
    postal_name = EXCLUDED.postal_name, location = EXCLUDED.location,
    search_text = EXCLUDED.search_text
WHERE (a.street_name, a.postcode, a.postal_name, a.search_text)
      IS DISTINCT FROM (EXCLUDED.street_name, EXCLUDED.postcode, EXCLUDED.postal_name,
                        EXCLUDED.search_text)
   OR NOT ST_Equals(a.location, EXCLUDED.location)
RETURNING (xmax = 0) AS created
"""
_COLUMNS = ("municipality_code", "street_code", "house_number", "street_name", "postcode",
            "postal_name", "lon", "lat", "search_text")


def _write(cursor, batch: list[dict], summary: ImportSummary) -> None:
    key_columns = [[row[c] for row in batch] for c in _COLUMNS[:3]]
    cursor.execute(_MARK_SEEN, key_columns)
    new = set(cursor.fetchall())
    kept, taken = [], set()
    for row in batch:
        key = (row["municipality_code"], row["street_code"], row["house_number"])
        if key in new and key not in taken:
            taken.add(key)
            kept.append(row)
    summary.skipped += len(batch) - len(kept)
    if not kept:
        return
    cursor.execute(_UPSERT, [[row[c] for row in kept] for c in _COLUMNS])
    written = [created for (created,) in cursor.fetchall()]
    summary.created += sum(written)
    summary.updated += len(written) - sum(written)
    summary.unchanged += len(kept) - len(written)


def import_addresses(
    path: Path | str, *, dry_run: bool = False, progress: Progress = no_progress,
    batch_size: int = BATCH,
) -> ImportSummary:
    """Create or update addresses keyed by (kommunekode, vejkode, husnr), streaming the file
    in batches (memory does not grow with it); all or nothing: one bad row anywhere and
    nothing is written."""
    path = Path(path)
    summary = ImportSummary(dry_run=dry_run)
    problems = _Problems()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS address_import_seen")  # an earlier import in
        cursor.execute(_SEEN_TABLE)                                   # the same transaction
        batch: list[dict] = []
        for row in _rows(path, progress, problems):
            if problems.count:
                continue  # read on to count every bad row; nothing more is written
            batch.append(row)
            if len(batch) >= batch_size:
                _write(cursor, batch, summary)
                batch = []
        if problems.count:
            raise ImportFailed(f"{path.name}: {problems.count} bad rows: "
                               f"{'; '.join(problems.first)}")
        if batch:
            _write(cursor, batch, summary)
        if summary.skipped:
            summary.notes.append(f"{summary.skipped} rows repeated an address already read")
        if dry_run:
            transaction.set_rollback(True)
    return summary
