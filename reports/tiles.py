"""The public reports layer as vector tiles (maps.mvt builds them; this says which rows
and which public fields)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection

from maps.mvt import Tile, clustered_points_tile_sql, points_tile_sql
from reports.lifecycle import OPEN_STATUSES


@dataclass(frozen=True)
class TileFilters:
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def _source_sql(filters: TileFilters) -> str:
    # Raw SQL: the rows feed ST_AsMVT in the same statement. Public fields only. The `&&`
    # on the widened tile envelope uses the GiST index on location.
    conditions = ["r.public", "r.location && {envelope}"]
    if filters.statuses:
        conditions.append("r.status = ANY(%(statuses)s)")
    if filters.categories:
        conditions.append("c.code = ANY(%(categories)s)")
    return (
        "SELECT r.id, r.location, r.status, c.code AS category "
        "FROM reports_report r JOIN reports_category c ON c.id = r.category_id, bounds "
        "WHERE " + " AND ".join(conditions)
    )


def reports_tile_sql(tile: Tile, filters: TileFilters) -> tuple[str, dict]:
    """The statement and parameters that build one tile: single reports (layer `reports`)
    above TILE_CLUSTER_MAX_ZOOM, counted clusters (layer `clusters`, with `count` and
    `open`) at and below it."""
    source = _source_sql(filters)
    if tile.z <= settings.TILE_CLUSTER_MAX_ZOOM:
        sql = clustered_points_tile_sql(
            source, layer="clusters",
            aggregates="count(*) FILTER (WHERE status = ANY(%(open_statuses)s)) AS open")
    else:
        sql = points_tile_sql(source, layer="reports", attributes=("status", "category"))
    params = {"z": tile.z, "x": tile.x, "y": tile.y,
              "statuses": filters.statuses, "categories": filters.categories,
              "open_statuses": sorted(OPEN_STATUSES)}
    return sql, params


def reports_tile(tile: Tile, filters: TileFilters) -> bytes:
    """One tile of public reports as MVT bytes (empty bytes when nothing is there)."""
    sql, params = reports_tile_sql(tile, filters)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchone()[0]
    return bytes(data) if data else b""
