#!/usr/bin/env bash
# make bench: builds release binaries, runs the benchmarks and rewrites their sections of
# docs/BENCHMARKS.md (between the <!-- bench:NAME --> markers), with the date, command and machine.
#   BENCH_SIZES="1000000 5000000"  incidents per generated file
#   BENCH_REPS=3                   repetitions of each way, interleaved A B C D A B C D …
#   BENCH_WAYS="floor daily nightly duckdb postgis"
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product khareetaty-bench >/dev/null
swift build -c release --product khareetaty >/dev/null
bin=.build/release/khareetaty
benchbin=.build/release/khareetaty-bench
data=.build/bench-data
mkdir -p "$data"

section() {  # section NAME FILE: replace the marked block in docs/BENCHMARKS.md with FILE's text
  python3 - "$1" "$2" <<'PY'
import re, sys
name, body = sys.argv[1], open(sys.argv[2]).read()
path = "docs/BENCHMARKS.md"
text = open(path).read()
start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
block = f"{start}\n{body.rstrip()}\n{end}"
if start in text:
    text = re.sub(re.escape(start) + ".*?" + re.escape(end), lambda _: block, text, flags=re.S)
else:
    text += "\n" + block + "\n"
open(path, "w").write(text)
PY
}

machine="$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -1)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), $(swift --version 2>/dev/null | head -1)"

# 1. The geocode kernel alone.
out=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on: $machine."
  echo "Command: \`make bench\` (\`$benchbin geocode --points 2000000\`)."
  echo
  "$benchbin" geocode --points 2000000
} > "$out"
section geocode "$out"
echo "bench: geocode section updated" >&2

# 2. Whole jobs, side by side with the COPY floor and the PostGIS way, on the same files.
url=$(scripts/local-db.sh start)
psql_q() { PGOPTIONS="-c client_min_messages=warning" psql "$url" -qAt "$@"; }
settings=$(psql_q -c "SELECT string_agg(name || ' = ' || setting || coalesce(' ' || unit, ''), ', ' ORDER BY name) FROM pg_settings
  WHERE name IN ('shared_buffers','work_mem','maintenance_work_mem','fsync','synchronous_commit','full_page_writes','wal_level','max_wal_size','max_parallel_maintenance_workers','jit')")
version=$(psql_q -c "SHOW server_version")
results="$data/results.jsonl"

# The best peer: DuckDB with its spatial and postgres extensions, from PyPI wheels of one version
# (the extensions load from the wheels' files: no network at run time), in its own environment.
duckdb_env=.build/bench-duckdb
duckdb_want="duckdb==1.5.5 duckdb-extension-spatial==1.5.5 duckdb-extension-postgres==1.5.5"
if [ "$(cat "$duckdb_env/.versions" 2>/dev/null)" != "$duckdb_want" ]; then
  rm -rf "$duckdb_env"
  /usr/bin/python3 -m venv "$duckdb_env"
  "$duckdb_env/bin/pip" install --quiet --disable-pip-version-check $duckdb_want
  echo "$duckdb_want" > "$duckdb_env/.versions"
fi
duckdb_version=$("$duckdb_env/bin/python" -c "import duckdb; print(duckdb.__version__)")
: > "$results"

timed() {  # timed WAY N REP COMMAND…: runs the command under /usr/bin/time, appends a JSON line
  local way=$1 n=$2 rep=$3; shift 3
  /usr/bin/time -f "%e %M" -o "$data/time.txt" "$@"
  python3 - "$way" "$n" "$rep" "$data/time.txt" "$data/summary.json" >> "$results" <<'PY'
import json, os, sys
way, n, rep, timefile, summary = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
wall, rss_kb = open(timefile).read().split()[-2:]
line = {"way": way, "n": n, "rep": rep, "wall": float(wall), "rss_mb": int(rss_kb) / 1024}
if way in ("daily", "nightly", "duckdb"):
    s = json.load(open(summary))
    assert s.get("status", "succeeded") == "succeeded" and s["rows_read"] == n, s
    if way == "duckdb":
        line["accounting"] = s
    else:
        line["stages"] = s["stage_seconds"]
        line["accounting"] = {k: s[k] for k in ("rows_read", "rows_loaded", "rows_rejected", "rows_duplicate", "rows_unassigned")}
print(json.dumps(line))
PY
}

for n in ${BENCH_SIZES:-1000000 5000000}; do
  csv="$data/incidents-$n.csv"
  [ -s "$csv" ] || "$benchbin" generate --rows "$n" --out "$csv"
  psql_q -v geojson=fixtures/boundaries/kuwait/geoBoundaries-KWT-ADM2.geojson -v schema=bench_postgis -f bench/postgis-setup.sql
  for rep in $(seq 1 "${BENCH_REPS:-3}"); do
    for way in ${BENCH_WAYS:-floor daily nightly duckdb postgis}; do
      echo "bench: $n rows, $way, repetition $rep" >&2
      case $way in
        floor)
          psql_q -c "DROP TABLE IF EXISTS public.bench_floor; CREATE TABLE public.bench_floor (incident_id text, occurred_at text,
                     category text, latitude text, longitude text, area text, description text, updated_at text)"
          timed floor "$n" "$rep" psql "$url" -qc "\\copy public.bench_floor FROM '$csv' WITH (FORMAT csv, HEADER true)"
          psql_q -c "DROP TABLE public.bench_floor" ;;
        daily|nightly)
          pipeline=pipelines/bench-daily.yaml; [ "$way" = nightly ] && pipeline=pipelines/nightly.yaml
          psql_q -c "DROP SCHEMA IF EXISTS bench_run CASCADE"
          DATABASE_URL="$url" KHAREETATY_DATABASE_SCHEMA=bench_run "$bin" migrate >/dev/null
          DATABASE_URL="$url" KHAREETATY_DATABASE_SCHEMA=bench_run KHAREETATY_LOG_LEVEL=warning \
            timed "$way" "$n" "$rep" sh -c "$bin run --pipeline $pipeline --date 2025-11-24 '$csv' --summary json > '$data/summary.json'"
          psql_q -c "DROP SCHEMA bench_run CASCADE" ;;
        duckdb)
          timed duckdb "$n" "$rep" sh -c "'$duckdb_env/bin/python' bench/duckdb_way.py '$csv' fixtures/boundaries/kuwait/geoBoundaries-KWT-ADM2.geojson config/categories.yaml '$url' bench_duckdb > '$data/summary.json'"
          psql_q -c "DROP SCHEMA bench_duckdb CASCADE" ;;
        postgis)
          timed postgis "$n" "$rep" sh -c "psql '$url' -q -v schema=bench_postgis -f bench/postgis.sql < '$csv'" ;;
      esac
    done
  done
  psql_q -c "DROP SCHEMA IF EXISTS bench_postgis CASCADE"
done

out=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on: $machine."
  echo "PostgreSQL $version, the local cluster of \`scripts/local-db.sh\`: $settings. DuckDB $duckdb_version (PyPI), two threads."
  echo "Command: \`make bench\` (\`bench/run.sh\`; sizes \`${BENCH_SIZES:-1000000 5000000}\`, ${BENCH_REPS:-3} interleaved repetitions; raw results in \`$results\`)."
  echo
  python3 bench/report.py "$results"
} > "$out"
section runs "$out"
rm -f "$out"
echo "bench: runs section updated" >&2
