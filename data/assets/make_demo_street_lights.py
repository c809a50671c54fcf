"""Writes ballerup-gadelys-demo.geojson.gz: GENERATED street lights for the OS2geo demo.

No open register of a Danish municipality's street lights could be fetched where this was
written, so the demo's lights are made up: a grid of streets 150 m apart around Ballerup's
centre, a light every 35 m along each, in ETRS89 / UTM 32N (EPSG:25832) as a municipality's
own file would be. They stand where no real light may stand. Run it again to get the same
file (python3 data/assets/make_demo_street_lights.py; it needs pyproj).
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path

from pyproj import Transformer

CENTRE = (12.3633, 55.7300)  # Ballerup's centre, WGS84
HALF_WIDTH, HALF_HEIGHT = 750, 600  # metres around it
STREET_SPACING, LIGHT_SPACING = 150, 35


def main() -> None:
    to_utm = Transformer.from_crs(4326, 25832, always_xy=True)
    cx, cy = to_utm.transform(*CENTRE)
    rng = random.Random(151)
    points = []
    for offset in range(-HALF_HEIGHT, HALF_HEIGHT + 1, STREET_SPACING):   # east-west streets
        for along in range(-HALF_WIDTH, HALF_WIDTH + 1, LIGHT_SPACING):
            points.append((cx + along, cy + offset + 6))           # 6 m off the centre line
    for offset in range(-HALF_WIDTH, HALF_WIDTH + 1, STREET_SPACING):    # north-south streets
        for along in range(-HALF_HEIGHT + 17, HALF_HEIGHT + 1, LIGHT_SPACING):
            points.append((cx + offset + 6, cy + along))
    features = []
    for number, (x, y) in enumerate(points, start=1):
        ident = f"BA-GL-{number:05d}"
        features.append({"type": "Feature", "properties": {
            "id": ident, "label": f"Lygtepæl {ident}",
            "armatur": rng.choice(["LED", "LED", "LED", "Natrium"]),
            "watt": rng.choice([24, 36, 50]), "mast_hoejde_m": rng.choice([4, 6, 8])},
            "geometry": {"type": "Point", "coordinates": [round(x, 2), round(y, 2)]}})
    collection = {"type": "FeatureCollection", "name": "ballerup-gadelys-demo",
                  "crs": {"type": "name",
                          "properties": {"name": "urn:ogc:def:crs:EPSG::25832"}},
                  "features": features}
    path = Path(__file__).with_name("ballerup-gadelys-demo.geojson.gz")
    with gzip.GzipFile(path, "wb", mtime=0) as out:
        out.write(json.dumps(collection, ensure_ascii=False).encode())
    print(f"{path.name}: {len(features)} generated street lights")


if __name__ == "__main__":
    main()
