"""The map's base layer as a MapLibre style (BASEMAP_STYLE)."""

from __future__ import annotations

OSM_ATTRIBUTION = (
    '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors')


def basemap_style(setting: str) -> dict | str:
    """A MapLibre style object, or the URL of one. Our own layers (boundaries, reports) are
    added on top by the page, so they draw whether or not the base layer loads (offline,
    or a tile server that is down)."""
    background = {"id": "background", "type": "background",
                  "paint": {"background-color": "#eef1f4"}}
    if setting.startswith(("http://", "https://", "/")):
        return setting
    style: dict = {"version": 8, "sources": {}, "layers": [background]}
    if setting == "osm":
        style["sources"]["basemap"] = {
            "type": "raster", "tileSize": 256, "maxzoom": 19,
            "tiles": ["https://tile.openstreetmap.org/{z}/{x}/{y}.png"],
            "attribution": OSM_ATTRIBUTION,
        }
        style["layers"].append({"id": "basemap", "type": "raster", "source": "basemap"})
    elif setting != "none":
        raise ValueError(f"BASEMAP_STYLE must be osm, none or a style URL, not {setting!r}")
    return style
