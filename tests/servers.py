"""Real servers for end-to-end tests: redis-server and daphne, started and stopped here."""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
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


class RedisProcess:
    """A redis-server on a free loopback port that a test can stop and start again on the
    same port (without persistence: it comes back empty, as after a real restart)."""

    def __init__(self) -> None:
        self.binary = shutil.which("redis-server")
        if self.binary is None:
            raise RuntimeError("redis-server is not installed (script/test installs it)")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None


@contextmanager
def redis_process():
    redis = RedisProcess()
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()


@contextmanager
def redis_server():
    with redis_process() as redis:
        yield redis.url


def current_database_url() -> str:
    """DATABASE_URL of the database the tests run against (pytest-django's test_… copy).
    Refuses any other database: a process started by a test must never reach real data."""
    settings = connection.settings_dict
    if "PYTEST_VERSION" in os.environ and not settings["NAME"].startswith("test_"):
        raise RuntimeError(f"Refusing to start a process on database {settings['NAME']!r}: "
                           "it is not a test database (depend on django_db_setup).")
    user = settings["USER"] or ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = settings["HOST"] or ""
    if host.startswith("/"):
        return f"postgres://{user}{password}@/{settings['NAME']}?host={host}"
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    return f"postgres://{user}{password}@{host}{port}/{settings['NAME']}"


_SERVER_MEDIA: list[str] = []


def server_media_root() -> str:
    """Where the processes the tests start store photos: a folder of the test run's own,
    removed when the run ends, never the installation's var/media."""
    if not _SERVER_MEDIA:
        _SERVER_MEDIA.append(tempfile.mkdtemp(prefix="os2geo-test-media-"))
        atexit.register(shutil.rmtree, _SERVER_MEDIA[0], ignore_errors=True)
    return _SERVER_MEDIA[0]


def service_env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(DEBUG="1", LOG_LEVEL="WARNING", DATABASE_POOL_MAX_SIZE="4",
               WEBHOOK_ALLOW_PRIVATE_NETWORKS="1",  # the tests' receivers are on loopback
               MEDIA_ROOT=server_media_root())
    if "DATABASE_URL" not in extra:
        env["DATABASE_URL"] = current_database_url()
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


class PostgresCluster:
    """A PostgreSQL + PostGIS cluster of a test's own, on a Unix socket only, that the test
    may restart or kill -9 (postmaster and every backend). As root it runs as the `postgres`
    user (initdb refuses root), in a folder under /tmp that user can reach."""

    def __init__(self) -> None:
        majors = sorted((p for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")),
                        key=lambda p: int(p.parent.parent.name))
        if not majors:
            raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql)")
        self.bin = majors[-1].parent
        self.dir = Path(tempfile.mkdtemp(prefix="os2geo-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        runuser = shutil.which("runuser", path=f"{os.environ.get('PATH', '')}:/usr/sbin:/sbin")
        command = [*([runuser or "runuser", "-u", "postgres", "--"] if self.as_root else []),
                   *args]
        return subprocess.run(command, cwd="/", capture_output=True, text=True, check=check,
                              timeout=120)

    def init(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres",
                  "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8")

    def init_replica_of(self, primary: PostgresCluster) -> None:
        """A streaming replica of `primary` (pg_basebackup -R: it follows the primary's WAL
        once started, read-only)."""
        self._run(str(self.bin / "pg_basebackup"), "-D", str(self.data), "-h",
                  str(primary.dir), "-U", "postgres", "-R", "-X", "stream", "-c", "fast")

    def sql(self, statement: str, database: str = "postgres") -> list[tuple]:
        import psycopg

        with psycopg.connect(self.url(database), autocommit=True) as conn:
            return conn.execute(statement).fetchall()

    def start(self) -> None:
        options = (f"-c listen_addresses='' -c unix_socket_directories='{self.dir}' "
                   "-c jit=off -c max_connections=200 -c shared_buffers=128MB")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.log), "-w",
                  "-t", "60", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", mode, "-w", "stop",
                  check=False)

    def restart(self) -> None:
        """A clean restart, as an operator or a fail-over does (`pg_ctl restart -m fast`)."""
        self.stop("fast")
        self.start()

    def postmaster_pid(self) -> int | None:
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def kill9(self) -> int:
        """kill -9 the postmaster and all its backends, as a crash does; how many died."""
        postmaster = self.postmaster_pid()
        if postmaster is None:
            return 0
        victims = [pid for pid in _pids() if _parent_of(pid) == postmaster] + [postmaster]
        for pid in victims:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{pid}").exists() for pid in victims) and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        return len(victims)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@/{database}?host={self.dir}"

    def create_database(self, name: str, template: str | None = None) -> str:
        import psycopg

        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            # FILE_COPY, not PostgreSQL 15's default WAL_LOG: a WAL_LOG copy inherits the
            # template's sequence state (log_cnt), so the copy hands out up to 32 values per
            # sequence without logging them, and after a crash it hands them out again
            # (duplicate keys; reported on pgsql-hackers, "Fix sequence value may rollback
            # after CREATE DATABASE TEMPLATE with WAL_LOG strategy").
            admin.execute(f'CREATE DATABASE "{name}"' + (
                f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""))
        if template is None:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url(name)

    def remove(self) -> None:
        self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


def _pids() -> list[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()]


def _parent_of(pid: int) -> int | None:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid`."""
    return sorted(child for child in _pids() if _parent_of(child) == pid)


def wait_for(condition, timeout: float = 15.0):
    """The first true value of condition(), polled; AssertionError after `timeout` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@contextmanager
def postgres_cluster():
    cluster = PostgresCluster()
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


def prepare_os2geo_database(cluster: PostgresCluster, name: str = "os2geo",
                            reports_per_municipality: int = 5) -> str:
    """A migrated OS2geo database with the demo set-up on `cluster`; its URL."""
    url = cluster.create_database(name)
    env = service_env(DATABASE_URL=url, DJANGO_SETTINGS_MODULE="geoservice.settings")
    subprocess.run([sys.executable, "manage.py", "migrate", "-v0"], cwd=ROOT, env=env,
                   check=True, timeout=300)
    subprocess.run([sys.executable, "-c", "import django; django.setup()\n"
                    "from reports.importers.demo import load_demo\n"
                    f"load_demo(reports_per_municipality={reports_per_municipality}, "
                    "log=lambda line: None)"], cwd=ROOT, env=env, check=True, timeout=300)
    return url
