"""Mapbox Vector Tiles built by PostGIS (ST_AsMVT). Generic: callers hand in the rows.

The caller's source SQL selects rows with a `location` geometry in SRID 4326 plus the
attributes to encode, and may use the placeholders `{envelope}` (the tile, widened by the
buffer, in 4326: for an indexed `&&` filter) and `{merc}` (the tile in web mercator).
"""

from __future__ import annotations

from dataclasses import dataclass

EXTENT = 4096  # tile coordinate units, MapLibre's default
BUFFER = 64    # units drawn beyond the edge so symbols are not cut at tile seams


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    def is_valid(self) -> bool:
        return 0 <= self.z <= 22 and 0 <= self.x < 2**self.z and 0 <= self.y < 2**self.z


def points_tile_sql(source_sql: str, *, layer: str, attributes: tuple[str, ...],
                    id_column: str = "id") -> str:
    """One statement returning the tile bytes for points of `source_sql`; parameters
    `z`, `x`, `y` plus the source's own named parameters. `attributes` are the source's
    columns to encode (besides the id)."""
    columns = ", ".join(f"rows.{name}" for name in (id_column, *attributes))
    return f"""
    WITH bounds AS (
      SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
             ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s,
                                          margin => {BUFFER / EXTENT}), 4326) AS envelope
    ), rows AS (
      {source_sql.format(envelope="bounds.envelope", merc="bounds.merc")}
    ), features AS (
      SELECT {columns}, ST_AsMVTGeom(ST_Transform(rows.location, 3857), bounds.merc,
                                     {EXTENT}, {BUFFER}, true) AS mvt_geom
      FROM rows, bounds
    )
    SELECT ST_AsMVT(features, '{layer}', {EXTENT}, 'mvt_geom', '{id_column}')
    FROM features WHERE mvt_geom IS NOT NULL
    """


def clustered_points_tile_sql(source_sql: str, *, layer: str, cell: int = 64,
                              aggregates: str = "") -> str:
    """Like points_tile_sql, but points are counted into a grid of `cell` tile units (for
    low zooms, where single points would be too many to draw or to send). Each cluster
    is drawn at the mean of its points and carries `count` plus the caller's
    `aggregates` (SQL over the rows' columns, e.g. "count(*) FILTER (...) AS open")."""
    extra = f", {aggregates}" if aggregates else ""
    return f"""
    WITH bounds AS (
      SELECT ST_TileEnvelope(%(z)s, %(x)s, %(y)s) AS merc,
             ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s), 4326) AS envelope
    ), rows AS (
      {source_sql.format(envelope="bounds.envelope", merc="bounds.merc")}
    ), placed AS (
      SELECT rows.*, ST_AsMVTGeom(ST_Transform(rows.location, 3857), bounds.merc,
                                  {EXTENT}, 0, true) AS mvt_geom
      FROM rows, bounds
    ), clusters AS (
      SELECT ST_SnapToGrid(ST_Centroid(ST_Collect(mvt_geom)), 1) AS mvt_geom,
             count(*) AS count{extra}
      FROM placed WHERE mvt_geom IS NOT NULL
      GROUP BY floor(ST_X(mvt_geom) / {cell}), floor(ST_Y(mvt_geom) / {cell})
    )
    SELECT ST_AsMVT(clusters, '{layer}', {EXTENT}, 'mvt_geom') FROM clusters
    """
