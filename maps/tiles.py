"""Web-mercator tile math (the XYZ scheme of OSM and MapLibre)."""

from __future__ import annotations

import math

MAX_LAT = 85.05112878  # web mercator's edge


def lonlat_to_tile(lon: float, lat: float, zoom: int) -> tuple[int, int]:
    n = 2**zoom
    lat = max(-MAX_LAT, min(MAX_LAT, lat))
    x = int((lon + 180.0) / 360.0 * n)
    y = int((1.0 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2.0 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def tile_bounds(x: int, y: int, zoom: int) -> tuple[float, float, float, float]:
    """(min_lon, min_lat, max_lon, max_lat) of a tile."""
    n = 2**zoom

    def lat(row: int) -> float:
        return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))

    return x / n * 360.0 - 180.0, lat(y + 1), (x + 1) / n * 360.0 - 180.0, lat(y)


def tile_range(bbox: tuple[float, float, float, float], zoom: int
               ) -> tuple[int, int, int, int]:
    """Inclusive (x0, y0, x1, y1) of the tiles covering a bbox at `zoom`."""
    min_lon, min_lat, max_lon, max_lat = bbox
    x0, y1 = lonlat_to_tile(min_lon, min_lat, zoom)
    x1, y0 = lonlat_to_tile(max_lon, max_lat, zoom)
    return x0, y0, x1, y1


def tile_count(bbox: tuple[float, float, float, float], zoom: int) -> int:
    x0, y0, x1, y1 = tile_range(bbox, zoom)
    return (x1 - x0 + 1) * (y1 - y0 + 1)


def tiles_covering(bbox: tuple[float, float, float, float], zoom: int) -> list[tuple[int, int]]:
    x0, y0, x1, y1 = tile_range(bbox, zoom)
    return [(x, y) for x in range(x0, x1 + 1) for y in range(y0, y1 + 1)]
