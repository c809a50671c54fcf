"""Every benchmark runs from an empty database in its smoke mode (a few thousand rows, a
few requests, peers included), so that none can rot unseen. Nothing here asserts a time:
the benchmarks print ratios, the suite only checks that they ran and printed them."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.servers import ROOT, current_database_url

BENCHMARKS = {
    "asset_tiles.py": ["ratio to floor", "assets per tile", "with an open report"],
    "backoffice.py": ["send: every report a case there", "duplicates: 0  lost: 0  "
                      "not following: 0", "retries:"],
    "bbox.py": ["ratio = median / floor median", "TiPg, 1 process", "OS2geo, 2 processes"],
    "capacity.py": ["address import:", "live reach", "2 processes", "nearest address"],
    "create.py": ["create, 2 processes", "replay, 1 process", "a replay filed nothing new"],
    "retention.py": ["ratio to floor", "table by table", "left behind: 0 rows of due "
                     "reports, 0 photo files"],
    "servers.py": ["Django adds ms", "  daphne  OS2geo", " uvicorn  OS2geo"],
    "tiles.py": ["cached p95", "no tile over 50 ms at p95"],
    "ws_fanout.py": ["reach", "100.0%"],
}


@pytest.mark.parametrize("script", sorted(BENCHMARKS))
def test_benchmark_runs_from_an_empty_database_in_smoke_mode(script, django_db_setup,
                                                             django_db_blocker):
    with django_db_blocker.unblock():
        url = current_database_url()
    result = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), "--smoke"], cwd=ROOT,
        env={"PATH": os.environ["PATH"], "DATABASE_URL": url, "DEBUG": "1",
             "HOME": str(ROOT)}, capture_output=True, text=True, timeout=600)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "database settings:" in output and "jit=off" in output, output[-2000:]
    for expected in BENCHMARKS[script]:
        assert expected in output, output[-2000:]
    assert "nan" not in output.split("database settings:")[-1], output[-2000:]
