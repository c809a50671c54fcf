"""maps_import_areas on the real DAGI and Copenhagen files and on made-up bad input."""

from __future__ import annotations

import csv
import gzip
import io
import json
import shutil
import subprocess

import pytest
from django.core.management import CommandError, call_command

from geoservice.lib.importing import ImportFailed
from maps.importers.areas import import_areas
from maps.models import Area

pytestmark = pytest.mark.django_db


def run(*args) -> str:
    out = io.StringIO()
    call_command("maps_import_areas", *map(str, args), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_raw_dagi_parts_are_dissolved_by_code_and_lose_z(data_dir):
    path = data_dir / "boundaries" / "dagi-2014" / "kommuner_raw.geojson.gz"
    output = run(path, "--kind", "custom", "--code-field", "KOMKODE", "--name-field", "KOMNAVN")
    assert "Areas: 99 created, 0 updated, 0 unchanged" in output
    assert "dissolved 262 parts into 50 areas by KOMKODE" in output
    areas = Area.objects.filter(kind="custom")
    assert areas.count() == 99
    ballerup = areas.get(code="0151")
    assert ballerup.name == "Ballerup"
    assert ballerup.geom.geom_type == "MultiPolygon" and not ballerup.geom.hasz
    assert ballerup.geom.srid == 4326 and ballerup.geom.valid
    assert all(a.geom.valid for a in areas)
    # Again: nothing changes.
    output = run(path, "--kind", "custom", "--code-field", "KOMKODE", "--name-field", "KOMNAVN")
    assert "Areas: 0 created, 0 updated, 99 unchanged" in output


def test_dry_run_writes_nothing(data_dir):
    path = data_dir / "boundaries" / "copenhagen" / "bydele.geojson.gz"
    output = run(path, "--kind", "custom", "--code-field", "bydel_nr", "--name-field", "navn",
                 "--dry-run")
    assert "Dry run, nothing written. Would have: Areas: 10 created" in output
    assert not Area.objects.filter(kind="custom").exists()


def test_invalid_copenhagen_polygons_are_repaired_and_named(data_dir):
    path = data_dir / "boundaries" / "copenhagen" / "roder_raw.geojson.gz"
    output = run(path, "--kind", "custom", "--code-field", "rode_nr", "--name-field", "rodenavn",
                 "--parent", "0101")
    assert "Areas: 399 created" in output
    repaired = [line for line in output.splitlines() if "repaired" in line]
    assert len(repaired) == 2
    assert any("Hvedevejs" in line and "Self-intersection" in line for line in repaired)
    assert any("Branddammens" in line for line in repaired)
    assert all(a.geom.valid for a in Area.objects.filter(kind="custom"))
    assert Area.objects.filter(kind="custom", parent__code="0101").count() == 399


def _write_25832_geojson(tmp_path, data_dir, count=3):
    """A square of ±10 m around real addresses, given in ETRS89 / UTM 32N (EPSG:25832)."""
    with gzip.open(data_dir / "addresses" / "addresses_dawa_testdata_wgs84.csv.gz", "rt") as f:
        rows = list(csv.DictReader(f))[:count]
    features = []
    for index, row in enumerate(rows):
        x, y = float(row["etrs89_x"]), float(row["etrs89_y"])
        ring = [[x - 10, y - 10], [x + 10, y - 10], [x + 10, y + 10], [x - 10, y + 10],
                [x - 10, y - 10]]
        features.append({"type": "Feature", "properties": {"code": f"A{index}", "name": "x"},
                         "geometry": {"type": "Polygon", "coordinates": [ring]}})
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps({
        "type": "FeatureCollection",
        "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
        "features": features,
    }))
    return path, rows


def test_epsg_25832_is_reprojected_to_wgs84(tmp_path, data_dir):
    path, rows = _write_25832_geojson(tmp_path, data_dir)
    summary = import_areas(path, kind="custom", code_field="code", name_field="name")
    assert summary.created == 3
    for index, row in enumerate(rows):
        centroid = Area.objects.get(kind="custom", code=f"A{index}").geom.centroid
        # The address point in WGS84, as DAWA published it, to about 10 cm.
        assert centroid.x == pytest.approx(float(row["lon"]), abs=2e-6)
        assert centroid.y == pytest.approx(float(row["lat"]), abs=2e-6)


@pytest.mark.skipif(shutil.which("ogr2ogr") is None, reason="needs gdal-bin")
def test_shapefile_in_25832_is_read_through_gdal(tmp_path, data_dir):
    path, rows = _write_25832_geojson(tmp_path, data_dir)
    shp = tmp_path / "utm.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(path)], check=True)
    assert import_areas(shp, kind="custom", code_field="code", name_field="name").created == 3
    centroid = Area.objects.get(kind="custom", code="A0").geom.centroid
    assert centroid.x == pytest.approx(float(rows[0]["lon"]), abs=2e-6)


def test_srid_option_overrides_a_missing_crs(tmp_path, data_dir):
    path, rows = _write_25832_geojson(tmp_path, data_dir, count=1)
    data = json.loads(path.read_text())
    del data["crs"]  # GeoJSON without crs means WGS84, which these numbers are not
    path.write_text(json.dumps(data))
    with pytest.raises(ImportFailed):  # 722502, 6172634 is no lon/lat: refused, not stored
        import_areas(path, kind="custom", code_field="code", name_field="name")
    import_areas(path, kind="custom", code_field="code", name_field="name", srid=25832)
    assert Area.objects.get(kind="custom", code="A0").geom.centroid.y == pytest.approx(
        float(rows[0]["lat"]), abs=2e-6)


def _geojson(tmp_path, features, name="bad.geojson"):
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


SQUARE = {"type": "Polygon", "coordinates": [[[12, 55], [12.1, 55], [12.1, 55.1], [12, 55]]]}


@pytest.mark.parametrize("features,message", [
    ([{"type": "Feature", "properties": {"name": "x"}, "geometry": SQUARE}], "empty code"),
    ([{"type": "Feature", "properties": {"code": "", "name": "x"}, "geometry": SQUARE}],
     "empty code"),
    ([{"type": "Feature", "properties": {"code": "L", "name": "x"},
       "geometry": {"type": "LineString", "coordinates": [[12, 55], [12.1, 55]]}}],
     "not a polygon"),
    ([{"type": "Feature", "properties": {"code": "N", "name": "x"}, "geometry": None}],
     "no geometry"),
])
def test_unusable_input_is_rejected_with_a_clear_message_and_nothing_written(
        tmp_path, features, message):
    good = {"type": "Feature", "properties": {"code": "OK", "name": "fine"}, "geometry": SQUARE}
    path = _geojson(tmp_path, [good, *features])
    with pytest.raises(CommandError, match=message):
        run(path, "--kind", "custom", "--code-field", "code", "--name-field", "name")
    assert not Area.objects.filter(kind="custom").exists()


def test_a_field_missing_from_the_file_is_named_with_the_fields_it_has(tmp_path):
    path = _geojson(tmp_path, [{"type": "Feature", "properties": {"code": "A", "name": "a"},
                                "geometry": SQUARE}])
    with pytest.raises(CommandError, match="no code field 'KOMKODE'; fields are: code, name"):
        run(path, "--kind", "custom", "--code-field", "KOMKODE", "--name-field", "name")


def test_missing_file_and_unreadable_file_are_clear_errors(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        run(tmp_path / "nope.geojson", "--kind", "custom", "--code-field", "c",
            "--name-field", "n")
    junk = tmp_path / "junk.geojson"
    junk.write_text("this is not geojson")
    with pytest.raises(CommandError, match="GDAL cannot read it"):
        run(junk, "--kind", "custom", "--code-field", "c", "--name-field", "n")


def test_unknown_parent_is_refused(data_dir):
    with pytest.raises(CommandError, match="no municipality area with code '9999'"):
        run(data_dir / "boundaries" / "ballerup" / "postnumre.geojson", "--kind", "district",
            "--code-field", "nr", "--name-field", "navn", "--parent", "9999")


def test_changed_geometry_updates_the_area(tmp_path):
    path = _geojson(tmp_path, [{"type": "Feature", "properties": {"code": "Z", "name": "z"},
                                "geometry": SQUARE}])
    import_areas(path, kind="custom", code_field="code", name_field="name")
    bigger = dict(SQUARE, coordinates=[[[12, 55], [12.2, 55], [12.2, 55.2], [12, 55]]])
    path = _geojson(tmp_path, [{"type": "Feature", "properties": {"code": "Z", "name": "z2"},
                                "geometry": bigger}])
    summary = import_areas(path, kind="custom", code_field="code", name_field="name")
    assert (summary.created, summary.updated) == (0, 1)
    area = Area.objects.get(kind="custom", code="Z")
    assert area.name == "z2" and area.geom.extent[2] == pytest.approx(12.2)
