"""Real servers for end-to-end tests: redis-server and daphne, started and stopped here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, process: subprocess.Popen, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args[0]} exited with {process.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on port {port} after {timeout} s")


@contextmanager
def redis_server():
    binary = shutil.which("redis-server")
    if binary is None:
        raise RuntimeError("redis-server is not installed (script/test installs it)")
    port = free_port()
    process = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_for_port(port, process)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def current_database_url() -> str:
    """DATABASE_URL of the database the tests run against (pytest-django's test_… copy)."""
    settings = connection.settings_dict
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{settings['NAME']}?host={host}"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings['NAME']}"


def service_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DATABASE_URL=current_database_url(), DEBUG="1", LOG_LEVEL="WARNING",
               DATABASE_POOL_MAX_SIZE="4")
    env.update(extra)
    return env


@contextmanager
def daphne_server(log_path: Path | None = None, **env: str):
    """A daphne process on a free port against the test database; its output goes to
    `log_path` (or is discarded)."""
    port = free_port()
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "geoservice.serve", "-b", "127.0.0.1", "-p", str(port),
         "geoservice.asgi:application"],
        cwd=ROOT, env=service_env(**env), stdout=log, stderr=log)
    try:
        wait_for_port(port, process)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
        if log_path:
            log.close()


def run_python(code: str, **env: str) -> str:
    """Run Python in a separate OS process with Django set up against the test database."""
    script = "import django; django.setup()\n" + code
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=service_env(
            DJANGO_SETTINGS_MODULE="geoservice.settings", **env),
        capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise RuntimeError(result.stderr[-3000:])
    return result.stdout
