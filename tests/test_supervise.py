"""The supervisor that script/server runs: a child that dies is started again; stopping the
supervisor stops every child."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, children_of, wait_for

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]


def test_a_child_that_dies_is_restarted_and_stopping_stops_all():
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "geoservice.supervise", "a", *SLEEPER, "---", "b", *SLEEPER],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        first = wait_for(lambda: (c := children_of(supervisor.pid)) and len(c) == 2 and c)
        os.kill(first[0], signal.SIGKILL)
        second = wait_for(lambda: (c := children_of(supervisor.pid)) and len(c) == 2
                          and c != first and c)
        assert first[1] in second and first[0] not in second
        supervisor.send_signal(signal.SIGTERM)
        output, _ = supervisor.communicate(timeout=30)
        assert supervisor.returncode == 0
        assert "exited with code -9" in output and "starting" in output and "again" in output
        for pid in second:
            assert not Path(f"/proc/{pid}").exists() or "Z" in (
                Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0])
    finally:
        supervisor.kill()


def test_children_die_with_a_killed_supervisor():
    supervisor = subprocess.Popen(
        [sys.executable, "-m", "geoservice.supervise", "a", *SLEEPER], cwd=ROOT,
        stdout=subprocess.DEVNULL)
    child = wait_for(lambda: children_of(supervisor.pid))[0]
    supervisor.kill()
    supervisor.wait()
    wait_for(lambda: not Path(f"/proc/{child}").exists())
