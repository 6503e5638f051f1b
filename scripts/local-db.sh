#!/usr/bin/env bash
# A throwaway, project-local PostgreSQL 15 cluster for development and tests.
#
#   scripts/local-db.sh start   # idempotent; prints the connection string
#   scripts/local-db.sh stop
#   scripts/local-db.sh status
#   scripts/local-db.sh url     # prints the connection string only
#
# Data directory, unix socket and log live under .localdb/ in the repo (git-ignored; another
# folder with $KHAREETATY_LOCALDB_DIR). The server
# listens on a fixed non-default port (54329, or $KHAREETATY_LOCALDB_PORT) on the unix socket and
# 127.0.0.1 only, runs as an unprivileged user (the invoking user, or `postgres` when invoked as
# root: initdb and postgres refuse root), and trades durability for speed (fsync off).
# No system service is started and port 5432 is never touched.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
port=${KHAREETATY_LOCALDB_PORT:-54329}
pgbin=${KHAREETATY_LOCALDB_PG_BIN:-/usr/lib/postgresql/15/bin}
dbname=khareetaty
dbuser=khareetaty

if [ "$(id -u)" -eq 0 ]; then
  osuser=postgres
  as_db() { runuser -u "$osuser" -- "$@"; }
else
  osuser=$(id -un)
  as_db() { "$@"; }
fi

# The cluster lives in the repo unless the unix socket path would exceed the kernel's ~107-byte
# limit or the server's user cannot reach the repo (e.g. a root-owned home): then under /tmp.
base="${KHAREETATY_LOCALDB_DIR:-$repo/.localdb}"
url_file="$base/url"
sock_path="$base/run/.s.PGSQL.$port"
reachable=1
if [ "$(id -u)" -eq 0 ]; then
  runuser -u "$osuser" -- test -x "$repo" 2>/dev/null || reachable=0
fi
if [ ${#sock_path} -ge 100 ] || [ "$reachable" = 0 ]; then
  link="$base"
  base="/tmp/khareetaty-db-$(printf '%s' "$base" | sha256sum | cut -c1-12)"
  mkdir -p "$link"
  ln -sfn "$base" "$link/cluster"
fi
data="$base/data"
run="$base/run"
log="$base/postgres.log"
url="postgresql:///$dbname?host=$run&port=$port&user=$dbuser"

# The server must not inherit the caller's open descriptors: a parent waiting for a pipe or
# socket to close (command substitution, Foundation's Process) would otherwise wait for ever.
detached() {
  local fd
  for fd in /proc/$BASHPID/fd/*; do
    fd=${fd##*/}
    if [ "$fd" -gt 2 ] && [ "$fd" != 255 ]; then { eval "exec $fd>&-"; } 2>/dev/null; fi
  done
  "$@" </dev/null >/dev/null
}

running() { as_db "$pgbin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

# The URL is also written to <dir>/url, where the tests and the Makefile read it.
write_url() {
  printf '%s\n' "$url" > "$url_file"
}

start() {
  [ -x "$pgbin/initdb" ] || { echo "local-db: $pgbin/initdb not found; run scripts/bootstrap.sh" >&2; exit 1; }
  mkdir -p "$base" "$run"
  if [ "$(id -u)" -eq 0 ]; then chown "$osuser" "$base" "$run"; fi
  chmod 700 "$base"; chmod 755 "$run"
  [ "$(id -u)" -eq 0 ] && chmod 711 "$base"   # root's client must reach the socket directory

  if [ ! -s "$data/PG_VERSION" ]; then
    echo "local-db: initialising $data" >&2
    as_db "$pgbin/initdb" -D "$data" -U "$dbuser" --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
    cat >> "$data/postgresql.conf" <<CONF

# --- khareetaty local-db (throwaway: durability relaxed for speed) ---
port = $port
listen_addresses = '127.0.0.1'
unix_socket_directories = '$run'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 60
shared_buffers = 256MB
max_wal_size = 2GB
timezone = 'UTC'
CONF
    # Extensions that must be loaded at start (Citus: scripts/citus-cluster.sh).
    if [ -n "${KHAREETATY_LOCALDB_PRELOAD:-}" ]; then
      echo "shared_preload_libraries = '$KHAREETATY_LOCALDB_PRELOAD'" >> "$data/postgresql.conf"
    fi
  fi

  if running; then
    write_url; echo "$url"; return 0
  fi
  # A crash can leave postmaster.pid and the socket lock behind; the server is not running
  # (pg_ctl status said so), so they are stale.
  rm -f "$data/postmaster.pid" "$run/.s.PGSQL.$port" "$run/.s.PGSQL.$port.lock"

  if ! ( detached as_db "$pgbin/pg_ctl" -D "$data" -l "$log" -w -t 60 start ); then
    echo "local-db: server failed to start; last log lines:" >&2
    tail -n 20 "$log" >&2 || true
    exit 1
  fi
  if ! "$pgbin/psql" "postgresql:///postgres?host=$run&port=$port&user=$dbuser" -Atqc \
        "select 1 from pg_database where datname = '$dbname'" | grep -q 1; then
    "$pgbin/createdb" -h "$run" -p "$port" -U "$dbuser" "$dbname"
  fi
  write_url
  echo "$url"
}

stop() {
  if [ -d "$data" ] && running; then
    as_db "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
    echo "local-db: stopped" >&2
  else
    echo "local-db: not running" >&2
  fi
}

case "${1:-start}" in
  start) start ;;
  stop) stop ;;
  status) if [ -d "$data" ] && running; then echo "running: $url"; else echo "stopped"; exit 3; fi ;;
  url) echo "$url" ;;
  *) echo "usage: $0 start|stop|status|url" >&2; exit 2 ;;
esac
