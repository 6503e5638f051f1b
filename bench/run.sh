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
