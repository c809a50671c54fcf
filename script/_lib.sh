# Shared by script/server and script/test. Sourced, not run.
# Everything here is idempotent: a second run checks and moves on in seconds.

set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VAR="$ROOT/var"
VENV="$ROOT/.venv"

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
die() { printf '\033[1;31mError:\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else die "need root for: $*  (run as root, or install sudo)"; fi
}

APT_UPDATED=0
apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install $* with your package manager"
  if [ "$APT_UPDATED" -eq 0 ]; then
    say "apt-get update"
    as_root apt-get update -q >/dev/null || die "apt-get update failed; check the network"
    APT_UPDATED=1
  fi
  say "Installing system packages: $*"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "$@" \
    >/dev/null || die "apt-get install $* failed"
}

dpkg_has() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

pg_major() {
  ls -1 /usr/lib/postgresql 2>/dev/null | grep -E '^[0-9]+$' | sort -n | tail -n1
}

ensure_system_packages() {
  local missing=()
  if [ -z "$(pg_major)" ] || [ ! -x "/usr/lib/postgresql/$(pg_major)/bin/initdb" ]; then
    if [ -z "${DATABASE_URL:-}" ]; then apt_install postgresql postgresql-contrib; fi
  fi
  local major; major="$(pg_major)"
  if [ -n "$major" ] && [ -z "${DATABASE_URL:-}" ] && ! dpkg_has "postgresql-$major-postgis-3"; then
    missing+=("postgresql-$major-postgis-3")
  fi
  # GeoDjango loads GDAL, GEOS and PROJ with ctypes; gdal-bin pulls in all three.
  if ! ldconfig -p 2>/dev/null | grep -q 'libgdal\.so'; then missing+=(gdal-bin); fi
  if ! ldconfig -p 2>/dev/null | grep -q 'libgeos_c\.so'; then missing+=(libgeos-c1v5); fi
  if ! command -v psql >/dev/null 2>&1; then missing+=(postgresql-client); fi
  # msgfmt compiles the translations (Danish, Swedish; English is the source).
  if ! command -v msgfmt >/dev/null 2>&1; then missing+=(gettext); fi
  for pkg in "${EXTRA_APT_PACKAGES[@]:-}"; do
    [ -n "$pkg" ] && ! dpkg_has "$pkg" && missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then apt_install "${missing[@]}"; fi
}

python_ok() { "$1" -c 'import sys, venv; sys.exit(sys.version_info < (3, 12))' 2>/dev/null; }

find_python() {
  local candidates=(python3.13 python3.12 python3)
  local pyenv_root="${PYENV_ROOT:-}"
  if [ -z "$pyenv_root" ] && command -v pyenv >/dev/null 2>&1; then pyenv_root="$(pyenv root)"; fi
  [ -z "$pyenv_root" ] && [ -d "$HOME/.pyenv" ] && pyenv_root="$HOME/.pyenv"
  if [ -n "$pyenv_root" ] && [ -d "$pyenv_root/versions" ]; then
    while IFS= read -r dir; do candidates+=("$dir/bin/python3"); done \
      < <(ls -1d "$pyenv_root"/versions/3.* 2>/dev/null | sort -rV)
  fi
  for candidate in "${candidates[@]}"; do
    if command -v "$candidate" >/dev/null 2>&1 && python_ok "$(command -v "$candidate")"; then
      command -v "$candidate"; return 0
    fi
  done
  return 1
}

ensure_venv() {
  if [ -x "$VENV/bin/python" ] && ! python_ok "$VENV/bin/python"; then
    say "Removing .venv: its Python is older than 3.12"; rm -rf "$VENV"
  fi
  if [ ! -x "$VENV/bin/python" ]; then
    local python
    python="$(find_python)" || die "Python 3.12+ not found: install it with
    apt-get install python3.12 python3.12-venv   (Ubuntu 24.04; Debian 13 has python3.13)
  or  pyenv install 3.12   (Debian 12), then run this again."
    say "Creating .venv with $python ($("$python" --version))"
    "$python" -m venv "$VENV" || die "could not create .venv (on Debian/Ubuntu: apt-get install python3-venv)"
  fi
  local stamp="$VENV/.os2geo-installed" want
  want="$(cat pyproject.toml | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing OS2geo and its Python dependencies into .venv"
    "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
    "$VENV/bin/python" -m pip install -q -e ".[dev]" || die "pip install failed (see above)"
    echo "$want" > "$stamp"
  fi
}

# --- browser libraries (MapLibre; axe-core for the browser tests) from npm -------------------

ensure_node_modules() {
  if ! command -v npm >/dev/null 2>&1; then apt_install nodejs npm; fi
  local stamp="frontend/node_modules/.os2geo-installed" want
  want="$(cat frontend/package.json frontend/package-lock.json | sha256sum | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    say "Installing the map's browser libraries (npm ci in frontend/)"
    (cd frontend && npm ci --no-audit --no-fund --loglevel=error >/dev/null) \
      || die "npm ci failed (see above)"
    echo "$want" > "$stamp"
  fi
}

# --- local PostgreSQL + PostGIS cluster under var/ --------------------------------------

PGBIN=""
pg_as_owner() {
  # initdb and postgres refuse to run as root: run them as the `postgres` system user then,
  # from / (the checkout may be a folder that user cannot enter, such as a 0700 home).
  if [ "$(id -u)" -eq 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi
}

# Settings the local cluster runs with. PostGIS's GeoJSON and MVT functions carry cost
# estimates that make PostgreSQL JIT-compile every tile and bbox query (on a z12 tile the
# compilation took longer than the query), so JIT is off; memory for a developer machine.
# Operators who bring their own database: see "Database settings" in README.md.
mem_mb="$(awk '/^MemTotal:/ {print int($2 / 1024)}' /proc/meminfo 2>/dev/null || echo 2048)"
shared_mb=$(( mem_mb / 8 )); [ "$shared_mb" -lt 128 ] && shared_mb=128; [ "$shared_mb" -gt 2048 ] && shared_mb=2048
PG_SETTINGS=(
  -c jit=off
  -c shared_buffers="${PG_SHARED_BUFFERS:-${shared_mb}MB}"
  -c work_mem="${PG_WORK_MEM:-16MB}"
  -c maintenance_work_mem=256MB
  -c effective_cache_size="$(( mem_mb / 2 ))MB"
  -c random_page_cost=1.1
  -c max_connections="${PG_MAX_CONNECTIONS:-200}"
)

ensure_local_cluster() {
  local major; major="$(pg_major)"
  [ -n "$major" ] || die "PostgreSQL server not found: apt-get install postgresql"
  PGBIN="/usr/lib/postgresql/$major/bin"
  local pgdir="$VAR/postgres"
  mkdir -p "$VAR"
  if [ "$(id -u)" -eq 0 ] && [ ! -e "$pgdir" ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user; install the postgresql package"
    if ! (cd / && runuser -u postgres -- test -x "$VAR"); then
      # The checkout lies where the postgres user cannot reach (e.g. under a 0700 home):
      # keep the cluster in a folder it can reach, linked from var/postgres.
      local elsewhere="/var/lib/os2geo/$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
      say "postgres cannot reach $VAR; keeping the cluster in $elsewhere (linked as var/postgres)"
      mkdir -p "$elsewhere"; chown postgres: "$elsewhere"; ln -s "$elsewhere" "$pgdir"
    fi
  fi
  mkdir -p "$pgdir"
  # Every path handed to the postgres user is the real one: through the link it would pass
  # the unreachable checkout again.
  pgdir="$(readlink -f "$pgdir")"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$pgdir"
  local data="$pgdir/data" log="$pgdir/server.log"
  # Socket paths are limited to ~100 bytes; a long path gets a short socket folder.
  PGSOCKET="$pgdir/run"
  if [ ${#PGSOCKET} -gt 80 ]; then
    PGSOCKET="/tmp/os2geo-$(printf '%s' "$ROOT" | sha256sum | cut -c1-12)"
  fi
  pg_as_owner mkdir -p "$PGSOCKET" 2>/dev/null || { mkdir -p "$PGSOCKET"; chown postgres: "$PGSOCKET"; }
  if [ ! -f "$data/PG_VERSION" ]; then
    say "Creating a PostgreSQL $major cluster in $data"
    pg_as_owner "$PGBIN/initdb" -D "$data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
      >"$pgdir/initdb.log" 2>&1 || die "initdb failed; see $pgdir/initdb.log"
  fi
  if ! pg_as_owner "$PGBIN/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    say "Starting PostgreSQL (Unix socket in ${PGSOCKET}, no TCP port; jit off)"
    pg_as_owner "$PGBIN/pg_ctl" -D "$data" -l "$log" -w -t 60 start \
      -o "-c listen_addresses='' -c unix_socket_directories='$PGSOCKET' -c unix_socket_permissions=0700 -c fsync=${PG_FSYNC:-on} ${PG_SETTINGS[*]}" \
      >/dev/null || die "PostgreSQL did not start; see $log"
  fi
  export PGHOST="$PGSOCKET" PGUSER=postgres
  if ! psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='os2geo'" | grep -q 1; then
    say "Creating database os2geo with PostGIS"
    psql -q -d postgres -c "CREATE DATABASE os2geo" >/dev/null
  fi
  psql -q -d os2geo -c "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null 2>&1 \
    || die "PostGIS is not available to PostgreSQL $major: apt-get install postgresql-$major-postgis-3"
  export DATABASE_URL="postgres://postgres@/os2geo?host=$PGSOCKET"
  # For the benchmarks and for commands run by hand (benchmarks/_setup.py reads it).
  printf '%s\n' "$DATABASE_URL" > "$VAR/database-url"
}

ensure_database() {
  if [ -n "${DATABASE_URL:-}" ]; then
    say "Using DATABASE_URL from the environment"
  else
    ensure_local_cluster
  fi
}

# Secrets of this installation, made once and kept in var/ (readable by its owner only):
# the development SECRET_KEY, the demo accounts' password and the demo webhook's secret.
# Never values written in the code, which every installation would share.
secret_file() {
  local file="$VAR/$1"
  if [ ! -s "$file" ]; then
    (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(32 if __import__("sys").argv[1] != "demo-password" else 12))' "$1" > "$file")
  fi
  cat "$file"
}

ensure_secrets() {
  mkdir -p "$VAR"
  export SECRET_KEY="${SECRET_KEY:-$(secret_file secret-key)}"
  export DEMO_PASSWORD="${DEMO_PASSWORD:-$(secret_file demo-password)}"
  export DEMO_WEBHOOK_SECRET="${DEMO_WEBHOOK_SECRET:-$(secret_file demo-webhook-secret)}"
}

setup_all() {
  ensure_system_packages
  ensure_venv
  ensure_node_modules
  ensure_database
  ensure_secrets
  export DEBUG="${DEBUG:-1}"
  say "Compiling translations"
  "$VENV/bin/python" manage.py compilemessages --ignore=.venv --ignore=var --ignore=node_modules -v 0
  say "Migrating the database"
  "$VENV/bin/python" manage.py migrate --noinput -v 0
}
