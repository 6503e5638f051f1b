#!/usr/bin/env bash
# A throwaway Citus 13.0.5 cluster on this machine: a coordinator and two workers, each a
# scripts/local-db.sh cluster of its own (own folder under .localdb-citus/, own port, `citus` in
# shared_preload_libraries), the workers registered with the coordinator.
#
#   scripts/citus-cluster.sh build   # build and install Citus from the vendored source when missing
#   scripts/citus-cluster.sh start   # idempotent (builds first); prints the coordinator's connection string
#   scripts/citus-cluster.sh stop
#   scripts/citus-cluster.sh url     # the coordinator's connection string
#
# Citus is built from ../shared/vendor/citus/citus-13.0.5.tar.gz ($KHAREETATY_CITUS_TARBALL): the
# test machines reach no other source of it. Its build dependencies (postgresql-server-dev-15 and
# the compression and Kerberos headers) are in scripts/bootstrap.sh, installed in the same
# `apt-get install` as the server so that both are the same minor version. Installing needs root
# (or sudo): it writes citus.so beside PostgreSQL's own libraries.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pgbin=${KHAREETATY_LOCALDB_PG_BIN:-/usr/lib/postgresql/15/bin}
base_port=${KHAREETATY_CITUS_PORT:-54340}
tarball=${KHAREETATY_CITUS_TARBALL:-$repo/../shared/vendor/citus/citus-13.0.5.tar.gz}
version=13.0.5
nodes=(coordinator worker1 worker2)

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi

installed_version() {
  local control
  control="$("$pgbin/pg_config" --sharedir 2>/dev/null)/extension/citus.control"
  [ -f "$("$pgbin/pg_config" --pkglibdir 2>/dev/null)/citus.so" ] && [ -f "$control" ] \
    && sed -nE "s/^default_version = '([0-9.]+)-.*'/\1/p" "$control" || true
}

build() {
  local have
  have=$(installed_version)
  # citus.control names the extension's SQL version (13.0-1 for every 13.0.x): the library's own
  # version is checked once the server has loaded it (`citus_version()`).
  if [ "$have" = "13.0" ]; then return 0; fi
  [ -f "$tarball" ] || { echo "citus-cluster: $tarball not found" >&2; exit 1; }
  "$repo/scripts/bootstrap.sh"
  local src="$repo/.build/citus-src" log="$repo/.build/citus-build.log"
  echo "citus-cluster: building Citus $version from $(basename "$tarball") (about 10 minutes on 2 cores; log: $log)" >&2
  rm -rf "$src"; mkdir -p "$src"
  tar -xzf "$tarball" -C "$src" --strip-components=1
  ( cd "$src" && ./configure --without-libcurl && make -j"$(nproc)" ) >"$log" 2>&1 \
    || { tail -30 "$log" >&2; exit 1; }
  ( cd "$src" && "${sudo[@]}" make install ) >>"$log" 2>&1 || { tail -30 "$log" >&2; exit 1; }
  echo "citus-cluster: installed" >&2
}

node() {  # node INDEX COMMAND: scripts/local-db.sh for node INDEX
  KHAREETATY_LOCALDB_DIR="$repo/.localdb-citus/${nodes[$1]}" KHAREETATY_LOCALDB_PORT=$((base_port + $1)) \
    KHAREETATY_LOCALDB_PRELOAD=citus "$repo/scripts/local-db.sh" "$2"
}

start() {
  build
  local url i
  for i in 0 1 2; do
    url=$(node "$i" start)
    "$pgbin/psql" "$url" -Atqc "SET client_min_messages = warning; CREATE EXTENSION IF NOT EXISTS citus" >/dev/null
  done
  url=$(node 0 url)
  "$pgbin/psql" "$url" -v ON_ERROR_STOP=1 -Atq >/dev/null <<SQL
SELECT citus_set_coordinator_host('127.0.0.1', $base_port);
SELECT citus_add_node('127.0.0.1', $((base_port + 1))) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = $((base_port + 1)));
SELECT citus_add_node('127.0.0.1', $((base_port + 2))) WHERE NOT EXISTS (SELECT FROM pg_dist_node WHERE nodeport = $((base_port + 2)));
SQL
  local running
  running=$("$pgbin/psql" "$url" -Atqc "SELECT citus_version()")
  case "$running" in *"Citus $version"*) ;; *) echo "citus-cluster: expected Citus $version, the server runs: $running" >&2; exit 1 ;; esac
  echo "$url"
}

case "${1:-start}" in
  build) build ;;
  start) start ;;
  stop) for i in 2 1 0; do node "$i" stop; done ;;
  url) node 0 url ;;
  *) echo "usage: $0 build|start|stop|url" >&2; exit 2 ;;
esac
