"""The public reports layer as vector tiles (maps.mvt builds them; this says which rows
and which public fields), and the tile cache.

The cache (on when TILE_CACHE_SECONDS > 0, which needs a cache every process shares:
CACHE_URL) keeps each built tile under its coordinates, its filters and a version. The
version of a tile at or above LIVE_TILE_ZOOM (the zoom of the live hub's tile groups) is its
own; a deeper tile takes the version of its ancestor at that zoom. A change to a report
gives every tile that can draw it (its point, widened by the tile buffer, at each zoom down
to LIVE_TILE_ZOOM) a new random version once the change commits, before the live event goes
out: a map that refetches on the event reads the new tiles. Versions are random rather than
counted, so a version lost from the cache (evicted, Redis restarted) can never bring an old
tile back. A reader takes the version before it queries, so what it stores under a version
is never older than that version. If a new version cannot be written (the cache is
unreachable just then, or the process dies between its COMMIT and the write), tiles around
that report may be stale until TILE_CACHE_SECONDS pass; a cache that cannot be read is
skipped (the tile is built from the database).
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from dataclasses import dataclass, field
from functools import partial

from django.conf import settings
from django.core.cache import cache
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from geoservice.lib import replica
from maps.mvt import BUFFER, EXTENT, Tile, points_tile_sql
from maps.tiles import lonlat_to_tile, tile_bounds, tiles_covering
from reports.lifecycle import OPEN_STATUSES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TileFilters:
    statuses: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)


def _source_sql(filters: TileFilters) -> str:
    # Raw SQL: the rows feed ST_AsMVT in the same statement. Public fields only. The `&&`
    # on the widened tile envelope uses the GiST index on location. No join: a crowded
    # tile sends clusters, and only single reports need their category's code (CATEGORY).
    conditions = ["r.public", "r.location && {envelope}"]
    if filters.statuses:
        conditions.append("r.status = ANY(%(statuses)s)")
    if filters.categories:
        conditions.append("r.category_id IN (SELECT id FROM reports_category "
                          "WHERE code = ANY(%(categories)s))")
    return ("SELECT r.id, r.location, r.status, r.category_id FROM reports_report r WHERE "
            + " AND ".join(conditions))


# A single report's category code, looked up for the reports a tile draws one by one.
CATEGORY = "(SELECT c.code FROM reports_category c WHERE c.id = category_id) AS category"


def reports_tile_sql(tile: Tile, filters: TileFilters) -> tuple[str, dict]:
    """The statement and parameters that build one tile: counted clusters (layer
    `clusters`, with `count` and `open`) at and below TILE_CLUSTER_MAX_ZOOM; above it single
    reports (layer `reports`: id, status, category), or clusters where a tile holds more
    than TILE_MAX_POINTS of them, except at TILE_MAX_ZOOM (the map's deepest tiles, which
    deeper views enlarge: there every report can be told apart)."""
    clusters_only = tile.z <= settings.TILE_CLUSTER_MAX_ZOOM
    if clusters_only:
        cluster_above: int | None = 0
    elif tile.z >= settings.TILE_MAX_ZOOM or settings.TILE_MAX_POINTS <= 0:
        cluster_above = None
    else:
        cluster_above = settings.TILE_MAX_POINTS
    sql = points_tile_sql(
        _source_sql(filters), layer="reports", attributes=("status", CATEGORY),
        cluster_above=cluster_above,
        aggregates="count(*) FILTER (WHERE status = ANY(%(open_statuses)s)) AS open")
    params = {"z": tile.z, "x": tile.x, "y": tile.y,
              "statuses": filters.statuses, "categories": filters.categories,
              "open_statuses": sorted(OPEN_STATUSES)}
    return sql, params


def reports_tile(tile: Tile, filters: TileFilters) -> bytes:
    """One tile of public reports as MVT bytes (empty bytes when nothing is there), from the
    tile cache when it holds the tile's current version."""
    if settings.TILE_CACHE_SECONDS <= 0:
        return _build(tile, filters)
    try:
        key = _data_key(tile, filters)
        cached = cache.get(key)
    except Exception:  # an unreachable cache costs a slower tile, never an error
        log.warning("tile cache unreadable; building %s from the database", tile,
                    exc_info=True)
        return _build(tile, filters)
    if cached is not None:
        return cached
    data = _build(tile, filters)
    try:
        cache.set(key, data, timeout=settings.TILE_CACHE_SECONDS)
    except Exception:
        log.warning("tile cache unwritable", exc_info=True)
    return data


def _build(tile: Tile, filters: TileFilters) -> bytes:
    # What the cache keeps is built from the primary: a tile read from a replica that has not
    # replayed a change yet would be kept under the version that change gave it.
    alias = DEFAULT_DB_ALIAS if settings.TILE_CACHE_SECONDS > 0 else replica.read_alias()
    sql, params = reports_tile_sql(tile, filters)
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchone()[0]
    return bytes(data) if data else b""


# --- assets -----------------------------------------------------------------------------

ASSET_MIN_ZOOM = 15  # assets are drawn from here on; shallower tiles are empty

_ASSETS_SOURCE_SQL = """
SELECT a.id, a.location, a.label, a.asset_type_id AS asset_type,
       (SELECT count(*) FROM reports_report r
        WHERE r.asset_id = a.id AND r.status = ANY(%(open_statuses)s) AND r.public
       ) AS open_reports
FROM reports_asset a
WHERE a.removed_at IS NULL
  AND a.asset_type_id IN (SELECT t.id FROM reports_assettype t
                          WHERE t.active AND t.id = ANY(%(types)s))
  AND a.location && {envelope}
"""


def assets_tile_sql(tile: Tile, type_ids: list[int]) -> tuple[str, dict]:
    """The statement that builds one tile of assets (layer `assets`: id, label, asset_type,
    open_reports: how many open public reports name it), never clustered."""
    sql = points_tile_sql(_ASSETS_SOURCE_SQL, layer="assets",
                          attributes=("label", "asset_type", "open_reports"))
    return sql, {"z": tile.z, "x": tile.x, "y": tile.y, "types": type_ids,
                 "open_statuses": sorted(OPEN_STATUSES)}


def assets_tile(tile: Tile, type_ids: list[int]) -> bytes:
    """One tile of the given asset types' assets as MVT bytes (empty below
    ASSET_MIN_ZOOM or where there are none)."""
    if tile.z < ASSET_MIN_ZOOM or not type_ids:
        return b""
    sql, params = assets_tile_sql(tile, type_ids)
    with connections[replica.read_alias()].cursor() as cursor:
        cursor.execute(sql, params)
        data = cursor.fetchone()[0]
    return bytes(data) if data else b""


GENERATION_KEY = "tiles:generation"  # every tile at once: a category's code changed


def _version_key(tile: Tile) -> str:
    """The key of the version a tile is cached under (its own, or its ancestor's)."""
    z, x, y = tile.z, tile.x, tile.y
    cell_zoom = settings.LIVE_TILE_ZOOM
    if z > cell_zoom:
        shift = z - cell_zoom
        z, x, y = cell_zoom, x >> shift, y >> shift
    return f"tiles:version:{z}:{x}:{y}"


def _data_key(tile: Tile, filters: TileFilters) -> str:
    version_key = _version_key(tile)
    versions = cache.get_many([GENERATION_KEY, version_key])
    missing = {key: secrets.token_hex(8) for key in (GENERATION_KEY, version_key)
               if key not in versions}
    for key, token in missing.items():
        # add, not set: of two readers that both found no version, one wins; both use it
        if not cache.add(key, token, timeout=None):
            token = cache.get(key) or token
        versions[key] = token
    wanted = "|".join((",".join(sorted(filters.statuses)), ",".join(sorted(filters.categories))))
    digest = hashlib.blake2b(wanted.encode(), digest_size=8).hexdigest()
    return (f"tiles:data:{tile.z}:{tile.x}:{tile.y}:{digest}:"
            f"{versions[GENERATION_KEY]}:{versions[version_key]}")


def version_keys_drawing(lon: float, lat: float) -> list[str]:
    """The version keys of every tile (down to LIVE_TILE_ZOOM) that can draw a point:
    the tile it lies in and, near an edge, the neighbours whose buffer reaches it."""
    keys = []
    for z in range(settings.LIVE_TILE_ZOOM + 1):
        x0, y0, x1, y1 = tile_bounds(*lonlat_to_tile(lon, lat, z), z)
        margin_x, margin_y = ((x1 - x0) * BUFFER / EXTENT, (y1 - y0) * BUFFER / EXTENT)
        widened = (lon - margin_x, lat - margin_y, lon + margin_x, lat + margin_y)
        keys += [f"tiles:version:{z}:{x}:{y}" for x, y in tiles_covering(widened, z)]
    return keys


# A write that fails is tried again after these pauses (as the live sends are).
INVALIDATE_RETRY_PAUSES = (0.05, 0.5)


def _new_versions(keys: list[str]) -> None:
    for pause in (*INVALIDATE_RETRY_PAUSES, None):
        try:
            cache.set_many({key: secrets.token_hex(8) for key in keys}, timeout=None)
            return
        except Exception:
            if pause is None:
                log.error("tile cache: new versions not written; tiles with %s may be "
                          "stale for up to TILE_CACHE_SECONDS", keys[:1], exc_info=True)
                return
            time.sleep(pause)


def invalidate_around(lon: float, lat: float) -> None:
    """After the current transaction commits, the tiles that can draw this point are built
    again on their next request."""
    if settings.TILE_CACHE_SECONDS > 0:
        transaction.on_commit(partial(_new_versions, version_keys_drawing(lon, lat)),
                              robust=True)


def invalidate_all() -> None:
    """After the current transaction commits, every cached tile is built again."""
    if settings.TILE_CACHE_SECONDS > 0:
        transaction.on_commit(partial(_new_versions, [GENERATION_KEY]), robust=True)
