#!/usr/bin/env bash
# The screenshots of the fixture's morning report that README.md shows: docs/report.png (a
# desktop, 1400 px wide) and docs/report-phone.png (a phone, 390 px):
# the nightly pipeline on the bundled data into a scratch schema of the local database, its
# report, and headless Chromium's picture of it. `make report-screenshot`.
set -euo pipefail
cd "$(dirname "$0")/.."
url=$(scripts/local-db.sh start)
bin=.build/debug/khareetaty
swift build --product khareetaty >/dev/null
schema=report_screenshot
export DATABASE_URL="$url" KHAREETATY_DATABASE_SCHEMA=$schema KHAREETATY_LOG_LEVEL=warning
psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS $schema CASCADE"
"$bin" migrate >/dev/null
"$bin" run --date 2026-11-24 >/dev/null
out=$(mktemp -d)
"$bin" report --date 2026-11-24 --out "$out/report.html" >/dev/null
shot() {
  chromium --headless=new --no-sandbox --disable-gpu --hide-scrollbars --user-data-dir="$out/profile" \
    --host-resolver-rules="MAP * ~NOTFOUND" --window-size="$1" --screenshot="$2" "file://$out/report.html" 2>/dev/null
}
shot 1400,1900 docs/report.png
shot 390,1700 docs/report-phone.png
psql "$url" -qc "SET client_min_messages = warning; DROP SCHEMA $schema CASCADE"
for r in owner loader reader; do psql "$url" -qc "DROP ROLE IF EXISTS ${schema}_$r" 2>/dev/null || true; done
rm -rf "$out"
echo "docs/report.png and docs/report-phone.png written" >&2
