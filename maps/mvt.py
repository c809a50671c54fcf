"""Mapbox Vector Tiles built by PostGIS (ST_AsMVT). Generic: callers hand in the rows.

The caller's source SQL selects rows with a `location` point in SRID 4326 plus the
attributes to encode, and uses the placeholder `{envelope}` (the tile, widened by the
buffer, in 4326) for its indexed `&&` filter.
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


def envelope_sql(margin: float = 0.0) -> str:
    """The tile (widened by `margin`, a fraction of its side) in 4326, from parameters `z`,
    `x`, `y`. Written inline, never through a CTE: the functions are immutable, so the
    planner folds it into a constant and estimates the rows behind `&&` from the index's
    statistics (through a CTE it guessed 100 rows for a tile holding 60,000, and joined
    them one by one)."""
    return (f"ST_Transform(ST_TileEnvelope(%(z)s, %(x)s, %(y)s, margin => {margin}), 4326)")


# A point's tile coordinates (0..EXTENT across the tile, y downwards) from its lon/lat by
# the spherical web-mercator formulas: what ST_AsMVTGeom(ST_Transform(…, 3857), …) gives,
# at a fraction of its cost per row (the difference is below a tile unit).
_TILE_X = "((ST_X(rows.location) + 180) / 360 * (2 ^ %(z)s) - %(x)s) * " + str(EXTENT)
_TILE_Y = ("((1 - asinh(tan(radians(ST_Y(rows.location)))) / pi()) / 2 * (2 ^ %(z)s) - %(y)s) * "
           + str(EXTENT))


def points_tile_sql(source_sql: str, *, layer: str, attributes: tuple[str, ...],
                    id_column: str = "id", clusters_layer: str = "clusters",
                    cluster_above: int | None = None, cell: int = 64,
                    aggregates: str = "") -> str:
    """One statement returning the tile bytes for the points of `source_sql`; parameters
    `z`, `x`, `y` plus the source's own named parameters. The source selects `location`
    (4326) and the columns to encode, filtered with `location && {envelope}`.

    Single points go to `layer` with their `id_column` and `attributes` (column names, or
    SQL over the source's columns ending in `AS name`). When
    `cluster_above` is set and the tile holds more points than that (0: always), they are
    counted instead into a grid of `cell` tile units, in `clusters_layer`: each cluster at
    the mean of its points, with `count` and the caller's `aggregates` (SQL over the rows'
    columns, e.g. "count(*) FILTER (WHERE …) AS open"): where single points would be too
    many to draw or to send."""
    source = source_sql.format(envelope=envelope_sql(BUFFER / EXTENT))
    columns = ", ".join((id_column, *attributes))
    extra = f", {aggregates}" if aggregates else ""
    edge, far = -BUFFER, EXTENT + BUFFER
    points = (f"(SELECT ST_AsMVT(points, '{layer}', {EXTENT}, 'mvt_geom', '{id_column}') "
              f"FROM (SELECT {columns}, ST_MakePoint(round(px), round(py)) AS mvt_geom "
              f"FROM placed WHERE px >= {edge} AND px <= {far} AND py >= {edge} "
              f"AND py <= {far}) AS points)")
    clusters = (f"(SELECT ST_AsMVT(clusters, '{clusters_layer}', {EXTENT}, 'mvt_geom') "
                f"FROM (SELECT ST_MakePoint(round(avg(px)), round(avg(py))) AS mvt_geom, "
                f"count(*) AS count{extra} FROM placed "
                f"WHERE px >= 0 AND px < {EXTENT} AND py >= 0 AND py < {EXTENT} "
                f"GROUP BY floor(px / {cell}), floor(py / {cell})) AS clusters)")
    if cluster_above is None:
        body = f"coalesce({points}, '')"
    elif cluster_above == 0:
        body = f"coalesce({clusters}, '')"
    else:
        body = (f"CASE WHEN (SELECT count(*) FROM placed) > {int(cluster_above)} "
                f"THEN coalesce({clusters}, '') ELSE coalesce({points}, '') END")
    # MATERIALIZED: each row's tile coordinates are computed once, not once per use.
    return f"""
    WITH placed AS MATERIALIZED (
      SELECT rows.*, {_TILE_X} AS px, {_TILE_Y} AS py FROM ({source}) AS rows
    )
    SELECT {body}
    """
