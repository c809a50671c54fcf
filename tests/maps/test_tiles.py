"""Web-mercator tile math on its own."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pyproj import Transformer

from maps.tiles import MAX_LAT, lonlat_to_tile, tile_bounds, tile_count, tiles_covering


def test_the_world_tile_and_its_four_children():
    assert lonlat_to_tile(0, 0, 0) == (0, 0)
    assert tile_bounds(0, 0, 0) == pytest.approx((-180, -MAX_LAT, 180, MAX_LAT))
    assert lonlat_to_tile(-90, 45, 1) == (0, 0)
    assert lonlat_to_tile(90, -45, 1) == (1, 1)


@pytest.mark.parametrize("lon, lat", [(12.3633, 55.7300), (12.57, 55.679), (-73.98, 40.75)])
def test_tiles_agree_with_pyproj_web_mercator(lon, lat):
    """The same tile from EPSG:3857 metres (pyproj), an independent path to the answer."""
    half = 20037508.342789244  # half the width of the web-mercator square in metres
    x_m, y_m = Transformer.from_crs(4326, 3857, always_xy=True).transform(lon, lat)
    for zoom in (0, 5, 12, 18):
        n = 2**zoom
        expected = (int((x_m + half) / (2 * half) * n), int((half - y_m) / (2 * half) * n))
        assert lonlat_to_tile(lon, lat, zoom) == expected


def test_edges_are_clamped_into_the_grid():
    assert lonlat_to_tile(180, 0, 3) == (7, 4)
    assert lonlat_to_tile(-180, 89.9, 3) == (0, 0)
    assert lonlat_to_tile(0, -89.9, 3) == (4, 7)


@given(lon=st.floats(-179.999, 179.999), lat=st.floats(-85, 85), zoom=st.integers(0, 18))
def test_a_point_lies_in_the_tile_it_is_mapped_to(lon, lat, zoom):
    x, y = lonlat_to_tile(lon, lat, zoom)
    min_lon, min_lat, max_lon, max_lat = tile_bounds(x, y, zoom)
    assert min_lon - 1e-9 <= lon <= max_lon + 1e-9
    assert min_lat - 1e-9 <= lat <= max_lat + 1e-9


@given(lon=st.floats(-170, 169), lat=st.floats(-80, 79), width=st.floats(0.001, 1),
       zoom=st.integers(0, 14))
def test_the_covering_tiles_are_counted_and_cover_the_corners(lon, lat, width, zoom):
    bbox = (lon, lat, lon + width, lat + width)
    tiles = tiles_covering(bbox, zoom)
    assert len(tiles) == tile_count(bbox, zoom) == len(set(tiles))
    for corner in ((bbox[0], bbox[1]), (bbox[2], bbox[3]), (bbox[0], bbox[3])):
        assert lonlat_to_tile(*corner, zoom) in tiles
