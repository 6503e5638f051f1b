#!/usr/bin/env bash
# make bench: builds release binaries, runs the benchmarks and rewrites their sections of
# docs/BENCHMARKS.md (between the <!-- bench:NAME --> markers), with the date, command and machine.
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product khareetaty-bench >/dev/null

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

machine="$(nproc) cores, $(lscpu | sed -n 's/^Model name: *//p' | head -1), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), $(swift --version 2>/dev/null | head -1)"
out=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on: $machine."
  echo "Command: \`make bench\` (\`.build/release/khareetaty-bench geocode --points 2000000\`)."
  echo
  .build/release/khareetaty-bench geocode --points 2000000
} > "$out"
section geocode "$out"
rm -f "$out"
echo "bench: docs/BENCHMARKS.md updated" >&2

# Whole runs: the nightly pipeline on synthetic inputs, per-stage seconds from the run's summary.
url=$(scripts/local-db.sh start)
bin=.build/release/khareetaty
swift build -c release --product khareetaty >/dev/null
out=$(mktemp)
{
  echo "Measured $(date -u +%Y-%m-%d) on: $machine. PostgreSQL: the local cluster (scripts/local-db.sh: fsync off, shared_buffers 256MB)."
  echo "Command: \`make bench\`: for each size, \`bench/generate_incidents.py N\` (seed 20261125), a fresh schema, \`khareetaty migrate\`,"
  echo "then \`/usr/bin/time -v khareetaty run --date 2025-11-24 FILE --summary json\`."
  echo
  echo "| incidents | wall s | ingest+clean+geocode s (producer thread) | load s | finish s | aggregate s | aggregate share | client peak RSS |"
  echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
  for n in ${BENCH_SIZES:-1000000 5000000}; do
    data=".build/bench-$n.csv"
    [ -s "$data" ] || python3 bench/generate_incidents.py "$n" "$data"
    schema="bench_$n"
    PGOPTIONS="-c client_min_messages=warning" psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
    DATABASE_URL="$url" KHAREETATY_DATABASE_SCHEMA="$schema" "$bin" migrate >/dev/null
    DATABASE_URL="$url" KHAREETATY_DATABASE_SCHEMA="$schema" KHAREETATY_LOG_LEVEL=warning /usr/bin/time -v \
      "$bin" run --date 2025-11-24 "$data" --summary json > .build/bench-summary.json 2> .build/bench-time.txt
    rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f MB", $2/1024}' .build/bench-time.txt)
    python3 - "$n" "$rss" <<'PY'
import json, sys
n, rss = int(sys.argv[1]), sys.argv[2]
s = json.load(open(".build/bench-summary.json"))
st = s["stage_seconds"]
print(f"| {n:,} | {s['duration_s']:.1f} | {st.get('ingest_clean_geocode', 0):.1f} | {st.get('load', 0):.1f} | {st.get('finish', 0):.1f} | "
      f"{st.get('aggregate', 0):.1f} | {st.get('aggregate', 0) / s['duration_s'] * 100:.0f}% | {rss} |")
PY
    PGOPTIONS="-c client_min_messages=warning" psql "$url" -qc "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null
  done
} > "$out"
section pipeline "$out"
rm -f "$out"
echo "bench: pipeline section updated" >&2
