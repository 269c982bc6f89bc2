# shellcheck shell=bash
# Start a local PostgreSQL for the database tests and export CAMPUS_FER_TEST_POSTGRES_URL.
#
# Sourced by scripts/test.sh (which runs under `set -euo pipefail`), so it never calls `exit`,
# guards every command that may fail, and only warns when PostgreSQL cannot be started: the
# PostgreSQL tests then skip locally and fail loudly in CI (where CI is set).
#
# Idempotent: a server that already answers on 127.0.0.1 with the test database is reused.
# Otherwise (as root, or a user with passwordless sudo) PostgreSQL is installed with apt when
# its binaries are missing (Debian bookworm: PostgreSQL 15), the newest cluster is configured
# to listen on 127.0.0.1 only and started with pg_ctlcluster (no systemd needed), and the role
# and database are created.
#
#   source scripts/start_postgres.sh
#
# Override with CAMPUS_FER_PG_USER / _PASSWORD / _DB / _PORT.

_campus_fer_pg_user="${CAMPUS_FER_PG_USER:-campus_fer}"
_campus_fer_pg_password="${CAMPUS_FER_PG_PASSWORD:-campus_fer}"
_campus_fer_pg_db="${CAMPUS_FER_PG_DB:-campus_fer_test}"
_campus_fer_pg_port="${CAMPUS_FER_PG_PORT:-5432}"

_campus_fer_pg_log() { echo "start_postgres: $*" >&2; }

# Run a command as root (directly, or through passwordless sudo).
_campus_fer_pg_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo -n "$@"; fi
}

# Run a command as the postgres system user.
_campus_fer_pg_postgres() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -n -u postgres -- "$@"; fi
}

# True when the test database answers over TCP with the test role's password.
_campus_fer_pg_answers() {
  command -v psql >/dev/null 2>&1 || return 1
  PGPASSWORD="$_campus_fer_pg_password" PGCONNECT_TIMEOUT=3 psql -qAtX -h 127.0.0.1 \
    -p "$_campus_fer_pg_port" -U "$_campus_fer_pg_user" -d "$_campus_fer_pg_db" \
    -c 'SELECT 1' >/dev/null 2>&1
}

# Run SQL as the superuser over the local socket; prints the result.
_campus_fer_pg_sql() {
  _campus_fer_pg_postgres psql -qAtX -p "$_campus_fer_pg_port" -v ON_ERROR_STOP=1 -c "$1"
}

_campus_fer_pg_start() {
  if _campus_fer_pg_answers; then
    _campus_fer_pg_log "reusing the server on 127.0.0.1:$_campus_fer_pg_port"
    return 0
  fi
  if ! _campus_fer_pg_root true 2>/dev/null; then
    _campus_fer_pg_log "need root (or passwordless sudo) to install or start PostgreSQL"
    return 1
  fi
  if ! command -v pg_ctlcluster >/dev/null 2>&1 || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    _campus_fer_pg_log "installing PostgreSQL with apt"
    _campus_fer_pg_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || return 1
    _campus_fer_pg_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null || return 1
  fi
  local version
  version="$(ls /usr/lib/postgresql 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$version" ]; then
    _campus_fer_pg_log "no PostgreSQL server under /usr/lib/postgresql"
    return 1
  fi
  if ! pg_lsclusters -h 2>/dev/null | awk '{print $1, $2}' | grep -qx "$version main"; then
    _campus_fer_pg_root pg_createcluster --port "$_campus_fer_pg_port" "$version" main >/dev/null || return 1
  fi

  # Local connections only. Debian's postgresql.conf includes conf.d/; TCP logins need passwords.
  local conf="/etc/postgresql/$version/main/conf.d/campus_fer.conf"
  local wanted
  wanted="$(printf "listen_addresses = '127.0.0.1'\nport = %s" "$_campus_fer_pg_port")"
  local changed=0
  if [ "$(cat "$conf" 2>/dev/null)" != "$wanted" ]; then
    _campus_fer_pg_root mkdir -p "$(dirname "$conf")" || return 1
    printf '%s\n' "$wanted" | _campus_fer_pg_root tee "$conf" >/dev/null || return 1
    changed=1
  fi
  local status
  status="$(pg_lsclusters -h 2>/dev/null | awk -v v="$version" '$1 == v && $2 == "main" {print $4}')"
  if [ "$status" != "online" ]; then
    _campus_fer_pg_root pg_ctlcluster "$version" main start || return 1
  elif [ "$changed" -eq 1 ]; then  # e.g. apt's post-install start, before our settings existed
    _campus_fer_pg_root pg_ctlcluster "$version" main restart || return 1
  fi
  local attempt
  for attempt in $(seq 1 30); do
    _campus_fer_pg_postgres pg_isready -q -p "$_campus_fer_pg_port" && break
    sleep 1
  done
  if ! _campus_fer_pg_postgres pg_isready -q -p "$_campus_fer_pg_port"; then
    _campus_fer_pg_log "the server did not become ready (see /var/log/postgresql/)"
    return 1
  fi

  # The role (CREATEDB, so tests may make scratch databases) and the database it owns.
  local verb=CREATE
  if [ "$(_campus_fer_pg_sql "SELECT 1 FROM pg_roles WHERE rolname = '$_campus_fer_pg_user'")" = 1 ]; then
    verb=ALTER
  fi
  _campus_fer_pg_sql "$verb ROLE \"$_campus_fer_pg_user\" LOGIN CREATEDB PASSWORD '$_campus_fer_pg_password'" \
    >/dev/null || return 1
  if [ "$(_campus_fer_pg_sql "SELECT 1 FROM pg_database WHERE datname = '$_campus_fer_pg_db'")" != 1 ]; then
    _campus_fer_pg_sql "CREATE DATABASE \"$_campus_fer_pg_db\" OWNER \"$_campus_fer_pg_user\"" >/dev/null || return 1
  fi
  if ! _campus_fer_pg_answers; then
    _campus_fer_pg_log "the server runs but the test database does not answer on 127.0.0.1"
    return 1
  fi
  _campus_fer_pg_log "PostgreSQL $version ready on 127.0.0.1:$_campus_fer_pg_port"
}

if _campus_fer_pg_start; then
  export CAMPUS_FER_TEST_POSTGRES_URL="postgresql+psycopg://${_campus_fer_pg_user}:${_campus_fer_pg_password}@127.0.0.1:${_campus_fer_pg_port}/${_campus_fer_pg_db}"
else
  _campus_fer_pg_log "WARNING: PostgreSQL unavailable; its tests will skip (or fail in CI)"
fi
unset -f _campus_fer_pg_start _campus_fer_pg_answers _campus_fer_pg_sql _campus_fer_pg_root \
  _campus_fer_pg_postgres _campus_fer_pg_log
unset _campus_fer_pg_user _campus_fer_pg_password _campus_fer_pg_db _campus_fer_pg_port
true
