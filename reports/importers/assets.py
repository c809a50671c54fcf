"""Import the assets of one asset type from anything GDAL reads (GeoJSON, GeoPackage,
shapefile, .gz), in any CRS the file declares (or `srid`): EPSG:25832 above all.

By external id, against what is stored: new ids are added, known ones that moved (more
than MOVED_M) or whose label or kept properties changed are updated, ids no longer in the
file are marked removed (never deleted: reports filed against them keep them), and removed
ones that are back are restored. Everything is checked before anything is written; one
unusable feature (no id, a repeated id, no geometry, not a point, not lon/lat after
reprojection, outside the municipality) refuses the file with every reason named. A dry
run (the default of the command) counts what would change and writes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.contrib.gis.gdal import GDALException
from django.contrib.gis.geos import Point
from django.db import transaction
from django.utils import timezone
from pyproj import Transformer
from shapely.prepared import prep

from geoservice.lib.importing import ImportFailed, Progress, no_progress
from maps.geo import haversine_m
from maps.importers.areas import (
    WGS84,
    open_layer,
    refuse_unusable,
    source_crs,
    transform_xy,
)
from reports.models import Asset, AssetType

MOVED_M = 0.5  # closer than this to where it was: not moved (reprojection noise)
BATCH = 2000


@dataclass
class AssetImport:
    added: int = 0
    moved: int = 0
    changed: int = 0
    unchanged: int = 0
    removed: int = 0
    restored: int = 0
    dry_run: bool = True
    notes: list[str] = field(default_factory=list)

    def line(self, noun: str) -> str:
        prefix = "Dry run, nothing written (--apply writes). Would have: " if self.dry_run \
            else ""
        return (f"{prefix}{noun}: {self.added} added, {self.moved} moved, {self.changed} "
                f"changed, {self.unchanged} unchanged, {self.removed} removed, "
                f"{self.restored} back again")


@dataclass(frozen=True)
class _Row:
    external_id: str
    label: str
    lon: float
    lat: float
    properties: dict


def _json_value(value):
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)  # dates, times: as text


def read_assets(path: Path, asset_type: AssetType, *, id_field: str, label_field: str | None,
                srid: int | None = None, progress: Progress = no_progress) -> list[_Row]:
    """Read, reproject and check every feature; ImportFailed names every unusable one."""
    path = Path(path)
    layer = open_layer(path)
    fields = list(layer.fields)
    kept = [f["key"] for f in asset_type.fields]
    wanted = [("id", id_field)] + ([("label", label_field)] if label_field else []) + [
        ("kept property", key) for key in kept]
    missing = [f"{what} field {name!r}" for what, name in wanted if name not in fields]
    if missing:
        raise ImportFailed(f"{path.name}: no {', '.join(missing)}; fields are: "
                           f"{', '.join(fields)}")
    crs = source_crs(layer, srid, path)
    transformer = None
    if not crs.equals(WGS84, ignore_axis_order=True):
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)
    boundary = prep(shapely.from_wkb(bytes(asset_type.municipality.area.geom.wkb)))
    rows: list[_Row] = []
    seen: dict[str, int] = {}
    problems: list[str] = []
    for index, feature in enumerate(progress(layer, len(layer), f"Reading {path.name}")):
        raw = feature.get(id_field)
        external_id = "" if raw is None else str(raw).strip()
        label = f"feature #{index} (id {external_id or '-'})"
        if not external_id:
            problems.append(f"{label}: empty {id_field}")
            continue
        if external_id in seen:
            problems.append(f"{label}: the id is also feature #{seen[external_id]}'s")
            continue
        seen[external_id] = index
        try:
            ogr = feature.geom
        except GDALException:
            ogr = None
        if ogr is None:
            problems.append(f"{label}: no geometry")
            continue
        geom = shapely.force_2d(shapely.from_wkb(bytes(ogr.wkb)))
        if isinstance(geom, shapely.MultiPoint) and len(geom.geoms) == 1:
            geom = geom.geoms[0]
        if not isinstance(geom, shapely.Point) or geom.is_empty:
            kind = "an empty point" if geom.is_empty else f"a {geom.geom_type}"
            problems.append(f"{label}: {kind}, not a point")
            continue
        x, y = geom.x, geom.y
        if transformer is not None:
            (x,), (y,) = transform_xy(transformer, np.array([[x, y]])).T
        if not (-180 <= x <= 180 and -90 <= y <= 90):
            problems.append(f"{label}: not longitude/latitude after reading it as "
                            f"{crs.name}; is the CRS wrong? (pass --srid)")
            continue
        if not boundary.contains(shapely.Point(x, y)):
            problems.append(f"{label}: lies outside {asset_type.municipality.name}")
            continue
        name = str(feature.get(label_field) or "").strip() if label_field else ""
        rows.append(_Row(external_id=external_id[:100], label=(name or external_id)[:200],
                         lon=round(x, 7), lat=round(y, 7),
                         properties={key: _json_value(feature.get(key)) for key in kept}))
    refuse_unusable(path, problems)
    if not rows:
        raise ImportFailed(f"{path.name}: no features")
    return rows


def import_assets(path: Path | str, *, municipality: str, asset_type: str, id_field: str,
                  label_field: str | None = None, srid: int | None = None,
                  dry_run: bool = True, progress: Progress = no_progress,
                  now: dt.datetime | None = None) -> AssetImport:
    """Bring one asset type's assets in line with the file (see the module); all or
    nothing."""
    kind = AssetType.objects.select_related("municipality__area").filter(
        municipality__code=municipality, code=asset_type).first()
    if kind is None:
        raise ImportFailed(f"no asset type {asset_type!r} in municipality {municipality!r}; "
                           "set it up in the admin first")
    rows = read_assets(Path(path), kind, id_field=id_field, label_field=label_field, srid=srid,
                       progress=progress)
    now = now or timezone.now()
    summary = AssetImport(dry_run=dry_run)
    source = Path(path).name[:300]
    with transaction.atomic():
        stored = {a.external_id: a for a in Asset.objects.select_for_update().filter(
            asset_type=kind)}
        new: list[Asset] = []
        changed: list[Asset] = []
        for row in progress(rows, len(rows), "Comparing"):
            asset = stored.pop(row.external_id, None)
            if asset is None:
                summary.added += 1
                new.append(Asset(asset_type=kind, external_id=row.external_id, label=row.label,
                                 location=Point(row.lon, row.lat, srid=4326),
                                 properties=row.properties, created_at=now, updated_at=now,
                                 source=source))
                continue
            moved = haversine_m(asset.location, Point(row.lon, row.lat, srid=4326)) > MOVED_M
            other = asset.label != row.label or asset.properties != row.properties
            back = asset.removed_at is not None
            if not (moved or other or back):
                summary.unchanged += 1
                continue
            summary.moved += moved
            summary.changed += other and not moved
            summary.restored += back
            if moved:
                asset.location = Point(row.lon, row.lat, srid=4326)
            asset.label, asset.properties, asset.removed_at = row.label, row.properties, None
            asset.updated_at, asset.source = now, source
            changed.append(asset)
        gone = [a.pk for a in stored.values() if a.removed_at is None]
        summary.removed = len(gone)
        if summary.removed:
            summary.notes.append(f"{summary.removed} assets are not in the file: marked "
                                 "removed (reports filed against them keep them)")
        if not dry_run:
            Asset.objects.bulk_create(new, batch_size=BATCH)
            Asset.objects.bulk_update(changed, ["location", "label", "properties",
                                                "removed_at", "updated_at", "source"],
                                      batch_size=BATCH)
            for start in range(0, len(gone), BATCH):
                Asset.objects.filter(pk__in=gone[start:start + BATCH]).update(
                    removed_at=now, updated_at=now)
    return summary
