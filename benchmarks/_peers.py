"""The peers the benchmarks compare with, started on the benchmark's own database and rows:
TiPg (uvicorn, one worker) and pygeoapi (gunicorn, one worker, its PostgreSQL provider).
Each starter returns (process, port), or None with a line saying why when the peer is not
installed (`pip install -e ".[bench]"` installs both).

Both read `reports_report` directly, asked only for the properties one table can give (id,
status, category_id), so they do no joins: easier for them than for OS2geo.
"""

from __future__ import annotations

import http.client
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

TABLE = "reports_report"
PROPERTIES = ("id", "status", "category_id")


def wait_for(port: int, path: str, process: subprocess.Popen, name: str) -> None:
    for _ in range(300):
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode}")
        try:
            probe = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            probe.request("GET", path)
            if probe.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    sys.exit(f"{name} did not answer on {path}")


def _database() -> dict:
    from django.conf import settings

    return settings.DATABASES["default"]


def start_tipg(port: int) -> subprocess.Popen | None:
    try:
        import tipg  # noqa: F401
    except ImportError:
        print("TiPg is not installed (pip install -e '.[bench]'): left out")
        return None
    db = _database()
    host = quote(db["HOST"] or "localhost", safe="")
    env = dict(os.environ,
               # asyncpg passes unknown DSN parameters as session settings: the same as ours.
               DATABASE_URL=f"postgresql://{db['USER'] or 'postgres'}@{host}/{db['NAME']}"
                            "?jit=off",
               TIPG_DB_SCHEMAS='["public"]', TIPG_DB_TABLES=f'["public.{TABLE}"]',
               TIPG_TILE_BUFFER="64", TIPG_MAX_FEATURES_PER_TILE="10000000",
               TIPG_MAX_FEATURES_PER_QUERY="10000",
               TIPG_DB_SPATIAL_EXTENT="false", TIPG_DB_DATETIME_EXTENT="false")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "tipg.main:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        cwd="/tmp", env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(port, "/collections", process, "TiPg")
    return process


def tipg_items_path(bbox: tuple[float, ...], limit: int) -> str:
    return (f"/collections/public.{TABLE}/items?bbox={','.join(map(str, bbox))}"
            f"&limit={limit}&properties={','.join(PROPERTIES)}")


def tipg_tile_path(z: int, x: int, y: int) -> str:
    return (f"/collections/public.{TABLE}/tiles/WebMercatorQuad/{z}/{x}/{y}"
            f"?properties={','.join(PROPERTIES)}&limit=10000000")


_PYGEOAPI_CONFIG = """\
server:
  bind: {{host: 127.0.0.1, port: {port}}}
  url: http://127.0.0.1:{port}
  mimetype: application/json; charset=UTF-8
  encoding: utf-8
  languages: [en-US]
  limits: {{default_items: 10, max_items: 10000}}
  map: {{url: "http://127.0.0.1/none/{{z}}/{{x}}/{{y}}.png", attribution: none}}
logging:
  level: ERROR
metadata:
  identification:
    title: benchmark
    description: benchmark
    keywords: [benchmark]
    keywords_type: theme
    terms_of_service: none
    url: http://127.0.0.1
  license: {{name: none, url: http://127.0.0.1}}
  provider: {{name: none, url: http://127.0.0.1}}
  contact: {{name: none, position: none, address: none, city: none, stateorprovince: none,
            postalcode: none, country: none, phone: none, fax: none, email: none,
            url: http://127.0.0.1, hours: none, instructions: none, role: pointOfContact}}
resources:
  reports:
    type: collection
    title: reports
    description: reports
    keywords: [reports]
    extents:
      spatial:
        bbox: [-180, -90, 180, 90]
        crs: http://www.opengis.net/def/crs/OGC/1.3/CRS84
    providers:
      - type: feature
        name: PostgreSQL
        data:
          host: {host}
          port: {db_port}
          dbname: {name}
          user: {user}
          password: "{password}"
          search_path: [public]
        # The provider's options are psycopg2's connect arguments: our session's jit=off.
        options: {{options: "-c jit=off"}}
        id_field: id
        table: {table}
        geom_field: location
        properties: [{properties}]
"""


def start_pygeoapi(port: int) -> subprocess.Popen | None:
    try:
        import gunicorn  # noqa: F401
        import pygeoapi  # noqa: F401
    except ImportError:
        print("pygeoapi is not installed (pip install -e '.[bench]'): left out")
        return None
    db = _database()
    folder = Path(tempfile.mkdtemp(prefix="pygeoapi-"))
    config, openapi = folder / "config.yml", folder / "openapi.yml"
    config.write_text(_PYGEOAPI_CONFIG.format(
        port=port, host=db["HOST"] or "localhost", db_port=db["PORT"] or 5432,
        name=db["NAME"], user=db["USER"] or "postgres", password=db["PASSWORD"] or "",
        table=TABLE, properties=", ".join(PROPERTIES)))
    env = dict(os.environ, PYGEOAPI_CONFIG=str(config), PYGEOAPI_OPENAPI=str(openapi))
    generated = subprocess.run(
        [str(Path(sys.executable).parent / "pygeoapi"), "openapi", "generate", str(config),
         "--output-file", str(openapi)], env=env, capture_output=True, text=True)
    if generated.returncode != 0:
        sys.exit(f"pygeoapi openapi generate failed: {generated.stderr[-2000:]}")
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
         "--log-level", "error", "pygeoapi.flask_app:APP"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wait_for(port, "/collections/reports", process, "pygeoapi")
    return process


def pygeoapi_items_path(bbox: tuple[float, ...], limit: int) -> str:
    return (f"/collections/reports/items?bbox={','.join(map(str, bbox))}&limit={limit}"
            "&f=json")
