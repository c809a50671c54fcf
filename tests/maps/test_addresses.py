"""Address import, prefix search and nearest-address lookup on the real DAWA test data."""

from __future__ import annotations

import io
import tracemalloc

import pytest
from django.core.management import CommandError, call_command

from maps.models import Address
from maps.selectors import addresses_search, nearest_address
from tests.maps.factories import point

pytestmark = pytest.mark.django_db


def test_reference_import_has_every_distinct_address():
    # 1,327 rows, one of which repeats an address key.
    assert Address.objects.count() == 1326


def test_import_is_idempotent_and_reports_what_it_did(data_dir):
    out = io.StringIO()
    call_command("maps_import_addresses",
                 str(data_dir / "addresses" / "addresses_dawa_testdata_wgs84.csv.gz"),
                 stdout=out, stderr=io.StringIO())
    assert "Addresses: 0 created, 0 updated, 1326 unchanged, 1 skipped" in out.getvalue()


def test_bad_rows_reject_the_whole_file(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("kommunekode,vejkode,vejnavn,husnr,postnr,postnrnavn,lon,lat\n"
                    "0151,0001,Testvej,1,2750,Ballerup,12.36,55.73\n"
                    "0151,0001,Testvej,2,2750,Ballerup,abc,55.73\n"
                    "0151,0001,Testvej,3,2750,Ballerup,12.36,95\n")
    with pytest.raises(CommandError, match="2 bad rows: line 3: lon/lat are not numbers"):
        call_command("maps_import_addresses", str(path), stdout=io.StringIO(),
                     stderr=io.StringIO())
    assert not Address.objects.filter(street_name="Testvej").exists()


def test_missing_columns_are_named(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("kommunekode,vejnavn\n0151,Testvej\n")
    with pytest.raises(CommandError, match="missing columns vejkode, husnr"):
        call_command("maps_import_addresses", str(path), stdout=io.StringIO(),
                     stderr=io.StringIO())


def test_prefix_search_ignores_case_and_extra_spaces():
    results = list(addresses_search("borgmester  CHRISTIANSENS gade 4"))
    assert results and all(
        r.label.startswith("Borgmester Christiansens Gade 4") for r in results)
    assert "Borgmester Christiansens Gade 45, 2450 København SV" in [r.label for r in results]
    assert list(addresses_search("zzz-no-such-street")) == []


def test_nearest_address_measures_metres_and_respects_the_limit():
    found = nearest_address(point(12.5368, 55.6487))
    assert found.address.label == "Borgmester Christiansens Gade 45, 2450 København SV"
    assert 20 < found.distance_m < 40
    assert nearest_address(point(12.5368, 55.6487), max_distance_m=10) is None
    assert nearest_address(point(12.5368, 55.6487), max_distance_m=100).address == found.address


def _dawa_file(path, rows: int, *, renamed: int | None = None) -> None:
    """`rows` addresses in DAWA's CSV layout, on made-up streets of municipality 0999."""
    with path.open("w") as handle:
        handle.write("kommunekode,vejkode,vejnavn,husnr,postnr,postnrnavn,lon,lat\n")
        for n in range(rows):
            street = f"Ny Testvej {n // 500}" if n == renamed else f"Testvej {n // 500}"
            handle.write(f"0999,{n // 500:04d},{street},{n % 500 + 1},9999,Testby,"
                         f"{10 + n * 1e-5:.6f},{56 + (n % 500) * 1e-5:.6f}\n")


def _peak_bytes(path) -> int:
    from maps.importers.addresses import import_addresses

    tracemalloc.start()
    try:
        import_addresses(path, batch_size=1000)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_import_streams_in_bounded_memory(tmp_path):
    """Four times the rows must not take four times the memory: the file is read and
    written in batches (the country's ~3.5 million addresses in one run)."""
    small, large = tmp_path / "small.csv", tmp_path / "large.csv"
    _dawa_file(small, 5_000)
    _dawa_file(large, 20_000)
    small_peak = _peak_bytes(small)
    large_peak = _peak_bytes(large)
    assert Address.objects.filter(municipality_code="0999").count() == 20_000
    assert large_peak < 1.5 * small_peak, (small_peak, large_peak)


def test_a_new_version_of_the_file_updates_in_place(tmp_path):
    from maps.importers.addresses import import_addresses

    path = tmp_path / "a.csv"
    _dawa_file(path, 1_200)
    assert (import_addresses(path, batch_size=500).created) == 1_200
    ids = dict(Address.objects.filter(municipality_code="0999").values_list(
        "search_text", "id"))
    _dawa_file(path, 1_200, renamed=700)
    summary = import_addresses(path, batch_size=500)
    assert (summary.created, summary.updated, summary.unchanged) == (0, 1, 1_199)
    renamed = Address.objects.get(street_name="Ny Testvej 1")
    assert renamed.id == ids["testvej 1 201, 9999 testby"]  # the same row, changed
    assert renamed.search_text == "ny testvej 1 201, 9999 testby"


def test_a_search_reads_its_first_rows_in_index_order_without_sorting_every_match():
    """At national scale a short prefix matches a million addresses: the index must give
    the rows in the search's order, so only the first `limit` are read (no Sort node)."""
    from django.db import connection

    query = addresses_search("bor")
    sql, params = query.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # the test data is small
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "address_search_c" in plan and "Sort" not in plan, plan
