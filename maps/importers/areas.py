"""Import area polygons from anything GDAL reads (GeoJSON, shapefile, GeoPackage, …).

Steps, all before anything is written: read every feature, drop Z, reproject from the CRS the
file declares (or `srid`) to WGS84, repair invalid polygons (each repair is named in the
summary), dissolve the parts that share a code into one MultiPolygon. Unusable input (missing
fields, empty codes, non-polygon geometries, no CRS) raises ImportFailed and writes nothing.

Lines (a road's centre line, a cable's route) become areas when `line_buffer_m` is given:
each is buffered by that many metres in its UTM zone, so a report within that distance of
the line lies in the area.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import shapely
from django.contrib.gis.gdal import DataSource, GDALException
from django.contrib.gis.geos import GEOSGeometry, MultiPolygon
from django.db import transaction
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError

from geoservice.lib.importing import ImportFailed, ImportSummary, Progress, no_progress
from maps.models import Area

WGS84 = CRS.from_epsg(4326)
# Geometries equal within this many degrees (about 1 cm) count as unchanged on re-import.
UNCHANGED_TOLERANCE = 1e-7


@dataclass
class _Group:
    name: str
    parts: list[shapely.Geometry] = field(default_factory=list)


def gdal_path(path: Path) -> str:
    return f"/vsigzip/{path}" if path.suffix == ".gz" else str(path)


def source_crs(layer, srid: int | None, path: Path) -> CRS:
    if srid is not None:
        try:
            return CRS.from_epsg(srid)
        except CRSError:
            raise ImportFailed(f"--srid {srid} is not a known EPSG code") from None
    if layer.srs is None:
        raise ImportFailed(f"{path.name} declares no coordinate reference system; pass --srid")
    try:
        return CRS.from_wkt(layer.srs.wkt)
    except CRSError as exc:
        raise ImportFailed(f"{path.name}: cannot understand its CRS ({exc}); pass --srid") from None


def open_layer(path: Path):
    """The first layer of a file GDAL reads (ImportFailed when there is none)."""
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    try:
        source = DataSource(gdal_path(path))
    except GDALException as exc:
        raise ImportFailed(f"{path.name}: GDAL cannot read it ({exc})") from None
    if len(source) == 0:
        raise ImportFailed(f"{path.name}: no layers")
    # The layer keeps its data source alive (GeoDjango holds a reference).
    return source[0]


def refuse_unusable(path: Path, problems: list[str]) -> None:
    """Refuse the whole file when any feature is unusable, naming the first ten."""
    if problems:
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        raise ImportFailed(f"{path.name}: {len(problems)} unusable features: {shown}{more}")


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry | None:
    """Only the polygon parts of a geometry (make_valid may add lines or points)."""
    if geom.is_empty:
        return None
    if isinstance(geom, (shapely.Polygon, shapely.MultiPolygon)):
        return geom
    if isinstance(geom, shapely.GeometryCollection):
        polys = [g for g in shapely.get_parts(geom) if isinstance(g, (shapely.Polygon,
                                                                       shapely.MultiPolygon))]
        return shapely.union_all(polys) if polys else None
    return None


def _to_multipolygon(geom: shapely.Geometry) -> MultiPolygon:
    if isinstance(geom, shapely.Polygon):
        geom = shapely.MultiPolygon([geom])
    result = GEOSGeometry(memoryview(shapely.to_wkb(geom)), srid=4326)
    if not isinstance(result, MultiPolygon):  # pragma: no cover - _polygonal guarantees it
        raise ImportFailed(f"expected a MultiPolygon, got {result.geom_type}")
    return result


def read_areas(
    path: Path,
    *,
    code_field: str,
    name_field: str,
    srid: int | None = None,
    line_buffer_m: float | None = None,
    progress: Progress = no_progress,
) -> tuple[dict[str, _Group], list[str]]:
    """Read, reproject, repair and dissolve; returns {code: group} and the repair notes.
    With `line_buffer_m`, lines are buffered into areas by that many metres."""
    if line_buffer_m is not None and not 0 < line_buffer_m <= 1000:
        raise ImportFailed(f"--line-buffer must be more than 0 and at most 1000 m "
                           f"(got {line_buffer_m:g})")
    path = Path(path)
    layer = open_layer(path)
    fields = list(layer.fields)
    for label, wanted in (("code", code_field), ("name", name_field)):
        if wanted not in fields:
            raise ImportFailed(
                f"{path.name}: no {label} field {wanted!r}; fields are: {', '.join(fields)}"
            )
    crs = source_crs(layer, srid, path)
    transformer = None
    if not crs.equals(WGS84, ignore_axis_order=True):
        # always_xy: files store x = easting/longitude whatever the CRS's axis order says.
        transformer = Transformer.from_crs(crs, WGS84, always_xy=True)

    groups: dict[str, _Group] = {}
    problems: list[str] = []
    notes: list[str] = []
    buffered = 0
    for index, feature in enumerate(progress(layer, len(layer), f"Reading {path.name}")):
        raw_code = feature.get(code_field)
        code = "" if raw_code is None else str(raw_code).strip()
        name = str(feature.get(name_field) or "").strip()
        label = f"feature #{index} ({name or 'no name'}, code {code or '-'})"
        if not code:
            problems.append(f"{label}: empty {code_field}")
            continue
        try:
            ogr = feature.geom
        except GDALException:  # a feature with "geometry": null
            ogr = None
        if ogr is None:
            problems.append(f"{label}: no geometry")
            continue
        geom = shapely.force_2d(shapely.from_wkb(bytes(ogr.wkb)))
        if transformer is not None:
            geom = shapely.transform(
                geom, lambda xy: transform_xy(transformer, xy), include_z=False
            )
        lines = isinstance(geom, (shapely.LineString, shapely.MultiLineString))
        if not (isinstance(geom, (shapely.Polygon, shapely.MultiPolygon))
                or (lines and line_buffer_m is not None)):
            hint = " (pass --line-buffer to buffer lines into areas)" if lines else ""
            problems.append(f"{label}: {geom.geom_type} is not a polygon{hint}")
            continue
        min_x, min_y, max_x, max_y = geom.bounds
        if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
            problems.append(
                f"{label}: coordinates are not longitude/latitude after reading them as "
                f"{crs.name}; is the CRS wrong? (pass --srid)"
            )
            continue
        if lines and line_buffer_m is not None:
            if geom.is_empty or geom.length == 0:
                problems.append(f"{label}: a line of no length")
                continue
            geom = _buffer_line(geom, line_buffer_m)
            buffered += 1
        if not geom.is_valid:
            reason = shapely.is_valid_reason(geom)
            repaired = _polygonal(shapely.make_valid(geom))
            if repaired is None:
                problems.append(f"{label}: invalid ({reason}) and nothing polygonal is left")
                continue
            change = abs(repaired.area - abs(geom.area)) / max(abs(geom.area), 1e-30)
            notes.append(f"repaired {label}: {reason}; area changed by {change:.2%}")
            geom = repaired
        if geom.is_empty:
            problems.append(f"{label}: empty geometry")
            continue
        group = groups.setdefault(code, _Group(name=name))
        if not group.name:
            group.name = name
        group.parts.append(geom)
    if buffered:
        notes.append(f"buffered {buffered} lines by {line_buffer_m:g} m into areas")
    refuse_unusable(path, problems)
    if not groups:
        raise ImportFailed(f"{path.name}: no features")
    return groups, notes


def _buffer_line(geom: shapely.Geometry, metres: float) -> shapely.Geometry:
    """A WGS84 line buffered by `metres`, measured in the UTM zone of its centre."""
    centre = geom.centroid
    zone = int((centre.x + 180) // 6) + 1
    utm = CRS.from_epsg((32600 if centre.y >= 0 else 32700) + zone)
    there = Transformer.from_crs(WGS84, utm, always_xy=True)
    back = Transformer.from_crs(utm, WGS84, always_xy=True)
    flat = shapely.transform(geom, lambda xy: transform_xy(there, xy))
    return shapely.transform(shapely.buffer(flat, metres, quad_segs=4),
                             lambda xy: transform_xy(back, xy))


def transform_xy(transformer: Transformer, xy: np.ndarray) -> np.ndarray:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


def import_areas(
    path: Path | str,
    *,
    kind: str,
    code_field: str,
    name_field: str,
    parent_code: str | None = None,
    srid: int | None = None,
    line_buffer_m: float | None = None,
    dry_run: bool = False,
    progress: Progress = no_progress,
) -> ImportSummary:
    """Create or update one Area per distinct code; idempotent, all or nothing."""
    path = Path(path)
    if kind not in Area.Kind.values:
        raise ImportFailed(f"unknown kind {kind!r}; use one of {', '.join(Area.Kind.values)}")
    parent = None
    if parent_code:
        parent = Area.objects.filter(kind=Area.Kind.MUNICIPALITY, code=parent_code).first()
        if parent is None:
            raise ImportFailed(f"no municipality area with code {parent_code!r}; import it first")
    groups, notes = read_areas(
        path, code_field=code_field, name_field=name_field, srid=srid,
        line_buffer_m=line_buffer_m, progress=progress
    )
    summary = ImportSummary(dry_run=dry_run, notes=notes)
    merged_parts = defaultdict(int)
    with transaction.atomic():
        existing = {a.code: a for a in Area.objects.filter(kind=kind, parent=parent)}
        for code, group in progress(groups.items(), len(groups), "Writing areas"):
            if len(group.parts) > 1:
                merged_parts[code] = len(group.parts)
            geom = _to_multipolygon(_polygonal(shapely.union_all(group.parts)))
            area = existing.get(code)
            if area is None:
                Area.objects.create(
                    kind=kind, code=code, name=group.name or code, parent=parent, geom=geom,
                    source=path.name,
                )
                summary.created += 1
            elif area.name == (group.name or code) and area.geom.equals_exact(
                geom, UNCHANGED_TOLERANCE
            ):
                summary.unchanged += 1
            else:
                area.name = group.name or code
                area.geom = geom
                area.source = path.name
                area.save()
                summary.updated += 1
        if merged_parts:
            parts = sum(merged_parts.values())
            summary.notes.append(
                f"dissolved {parts} parts into {len(merged_parts)} areas by {code_field}"
            )
        if dry_run:
            transaction.set_rollback(True)
    return summary
