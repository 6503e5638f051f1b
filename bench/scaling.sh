#!/usr/bin/env bash
# make bench-scaling: what distribution costs or buys on this machine. The same 5M-row load (the
# nightly pipeline, as of 2025-11-24) and the same year's backfill (2024-11-25 … 2025-11-24, one
# process, then two workers) on single-node PostgreSQL (scripts/local-db.sh) and on the local Citus
# cluster (scripts/citus-cluster.sh: a coordinator and two workers, all on these same cores).
# Prints a Markdown table for docs/SCALING.md; raw lines in .build/bench-data/scaling.jsonl.
#   SCALING_ROWS=5000000   incidents in the generated file
#   SCALING_TARGETS="single citus"   which to measure (again); the other's last results are kept
set -euo pipefail
cd "$(dirname "$0")/.."

rows=${SCALING_ROWS:-5000000}
data=.build/bench-data; mkdir -p "$data"
targets=${SCALING_TARGETS:-single citus}
# Re-measuring one target keeps the other's lines.
results=$data/scaling.jsonl; touch "$results"
for t in $targets; do grep -v "\"target\": \"$t\"" "$results" > "$results.tmp" || true; mv "$results.tmp" "$results"; done
swift build -c release --product khareetaty 2>&1 | tail -1 >&2
swift build -c release --product khareetaty-bench 2>&1 | tail -1 >&2
bin=.build/release/khareetaty
csv=$data/incidents-$rows.csv
[ -s "$csv" ] || .build/release/khareetaty-bench generate --rows "$rows" --out "$csv"

single=$(scripts/local-db.sh start)
citus=$(scripts/citus-cluster.sh start)
schema=bench_scaling

timed() {  # timed TARGET STEP COMMAND…: wall seconds and peak client memory, one JSON line
  local target=$1 step=$2; shift 2
  /usr/bin/time -f "%e %M" -o "$data/scaling-time.txt" "$@" >/dev/null
  read -r wall rss <"$data/scaling-time.txt"
  echo "{\"target\": \"$target\", \"step\": \"$step\", \"rows\": $rows, \"wall\": $wall, \"rss_mb\": $((rss / 1024))}" | tee -a "$results" >&2
}

for target in $targets; do
  url=$single; dist=none
  [ "$target" = citus ] && { url=$citus; dist=citus; }
  export KHAREETATY_DATABASE_URL=$url KHAREETATY_DATABASE_SCHEMA=$schema KHAREETATY_DATABASE_DISTRIBUTION=$dist KHAREETATY_LOG_LEVEL=warning
  psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE"
  "$bin" migrate >/dev/null
  timed "$target" "load" "$bin" run --date 2025-11-24 "$csv"
  timed "$target" "backfill" "$bin" backfill --from 2024-11-25 --to 2025-11-24 --recompute
  "$bin" backfill --from 2024-11-25 --to 2025-11-24 --enqueue --recompute >/dev/null
  timed "$target" "backfill-2-workers" sh -c "'$bin' backfill --worker & '$bin' backfill --worker & wait"
  psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE"
done

python3 - "$results" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
t = {(r["target"], r["step"]): r for r in rows}
names = {"load": f"load {rows[0]['rows']:,} rows (nightly pipeline)", "backfill": "backfill a year, one process",
         "backfill-2-workers": "backfill a year, two workers"}
print("| step | one PostgreSQL | Citus: coordinator + 2 workers | ratio |")
print("|---|---:|---:|---:|")
for step, name in names.items():
    s, c = t[("single", step)], t[("citus", step)]
    print(f"| {name} | {s['wall']:.1f} s | {c['wall']:.1f} s | {c['wall'] / s['wall']:.2f}× |")
PY
