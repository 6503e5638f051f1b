#!/usr/bin/env bash
# make test-citus: Khareetaty on a real Citus 13.0.5 cluster (a coordinator and two workers on this
# machine, scripts/citus-cluster.sh), every step run the same way against single-node PostgreSQL
# (scripts/local-db.sh), and every output table compared between the two as a multiset of rows
# (all columns but the run's own: run ids, clock times, host and worker names).
#
# Steps: migrate with database.distribution citus (the tables distributed, checked in Citus's
# catalogue); the nightly pipeline on the bundled data; a year of synthetic incidents (new months,
# in-file duplicates, broken rows); a file re-sending incidents that move area or month; the same
# file again (--force: the tables must not change); the fixture replays; a year's backfill queued
# and run by two concurrent workers; a run killed with SIGKILL in the middle of its load (nothing
# of it may be left, on the coordinator or on the workers) and then run to the end; the reader role's
# reads; `check`, `runs` and the morning report (its tables equal to single-node's). Every run's
# accounting must add up (read = loaded + rejected + duplicates).
#
# Prints ok/FAIL per check and closes with "N passed, N failed" (exit 1 on any failure).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

scripts/bootstrap.sh
swift build --product khareetaty 2>&1 | tail -1 >&2
swift build --product khareetaty-bench 2>&1 | tail -1 >&2
bin=$repo/.build/debug/khareetaty
bench=$repo/.build/debug/khareetaty-bench
pgbin=${KHAREETATY_LOCALDB_PG_BIN:-/usr/lib/postgresql/15/bin}

single_url=$(scripts/local-db.sh start)
citus_url=$(scripts/citus-cluster.sh start)
schema=citus_tier
work=$repo/.build/citus-tier
rm -rf "$work"; mkdir -p "$work"
started=$(date +%s)

passed=0 failed=0
ok() { passed=$((passed + 1)); echo "ok    $*"; }
bad() { failed=$((failed + 1)); echo "FAIL  $*"; }
check() {  # check NAME COMMAND...: ok when the command succeeds
  local name=$1; shift
  if "$@"; then ok "$name"; else bad "$name"; fi
}

# Targets: single (one PostgreSQL), citus (the coordinator, distribution citus), coordinator (the
# same coordinator with distribution none: plain tables there, for the upgrade step).
url() { case $1 in single) echo "$single_url" ;; *) echo "$citus_url" ;; esac; }
sql() { "$pgbin/psql" "$(url "$1")" -v ON_ERROR_STOP=1 -Atqc "$2"; }
# k TARGET ARGS…: khareetaty against one target, its log kept; $S: the schema (default $schema);
# $K_USER: the login (default: the clusters' superuser, which migrates and replays).
k() {
  local target=$1; shift
  local dist=none; [ "$target" = citus ] && dist=citus
  local u; u=$(url "$target"); [ -n "${K_USER:-}" ] && u=${u/user=khareetaty/user=$K_USER}
  KHAREETATY_DATABASE_URL=$u KHAREETATY_DATABASE_SCHEMA=${S:-$schema} KHAREETATY_DATABASE_DISTRIBUTION=$dist \
    KHAREETATY_LOG_FORMAT=json KHAREETATY_REPORT_DIR= KHAREETATY_METRICS_TEXTFILE= ${K_EXEC:+exec} "$bin" "$@" 2>>"$work/$target.log"
}
# both NAME ARGS…: the same command on both targets; ok when both exit 0.
both() {
  local name=$1; shift
  local rs=0 rc=0
  k single "$@" >"$work/single.out" || rs=$?
  k citus "$@" >"$work/citus.out" || rc=$?
  if [ $rs -eq 0 ] && [ $rc -eq 0 ]; then ok "$name (exit 0 on both)"
  else bad "$name (single exit $rs, citus exit $rc; logs in $work)"; tail -3 "$work/citus.log" "$work/single.log" >&2 || true; fi
}

# The rows of a table without the run's own columns, sorted byte-wise: one line each.
volatile="'run_id','started_at','finished_at','host','version','stage_seconds','worker','data_version','applied_at'"
dump() {  # dump TARGET TABLE [SCHEMA]
  local cols sch=${3:-$schema}
  cols=$(sql "$1" "SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position) FROM information_schema.columns
                   WHERE table_schema = '$sch' AND table_name = '$2' AND column_name NOT IN ($volatile)")
  # Run ids quoted in messages, and a worker's host:pid in its ledger row, differ by run too.
  sql "$1" "SELECT r FROM (SELECT regexp_replace(regexp_replace(t::text, '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}', '<run>', 'g'),
                                                 'backfill worker [^,\"]*', 'backfill worker <host:pid>', 'g') AS r
                            FROM (SELECT $cols FROM $sch.$2) t) x ORDER BY r COLLATE \"C\""
}
tables=(districts incidents incident_rejects district_daily district_monthly district_trends hotspot_grids hotspot_cells
        emerging_hotspots pipeline_runs backfill_chunks)
compare() {  # compare STEP [CLUSTER_SCHEMA]: every output table equal on both targets
  local table
  for table in "${tables[@]}"; do
    dump single "$table" >"$work/$table.single"
    dump citus "$table" "${2:-$schema}" >"$work/$table.citus"
    local n; n=$(wc -l <"$work/$table.single")
    if cmp -s "$work/$table.single" "$work/$table.citus"; then
      ok "$1: $table equal ($n rows)"
    else
      bad "$1: $table differs (single $n rows, citus $(wc -l <"$work/$table.citus") rows)"
      diff "$work/$table.single" "$work/$table.citus" | head -6 | cut -c1-200 >&2 || true
    fi
  done
}
fingerprint() {  # fingerprint TARGET: one line per table, its rows' md5
  local table
  for table in "${tables[@]}"; do echo "$table $(dump "$1" "$table" | md5sum | cut -c1-32)"; done
}
# The run's accounting from --summary json: read = loaded + rejected + duplicates.
adds_up() {
  python3 - "$1" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
read, loaded, rejected, dup = s["rows_read"], s["rows_loaded"], s["rows_rejected"], s["rows_duplicate"]
sys.exit(0 if s["status"] == "succeeded" and read == loaded + rejected + dup and read > 0 else 1)
PY
}

# ---- 1. migrate ----------------------------------------------------------------------------------
for t in single citus; do sql "$t" "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true; done
both "migrate" migrate
check "citus: incidents hash-distributed by incident_id" \
  test "$(sql citus "SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE logicalrelid = '$schema.incidents'::regclass")" = incident_id
check "citus: staging co-located with incidents, counts by district_code, districts a reference table" \
  test "$(sql citus "SELECT (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = '$schema.incidents_stage'::regclass)
                            = (SELECT colocationid FROM pg_dist_partition WHERE logicalrelid = '$schema.incidents'::regclass)
                        AND (SELECT column_to_column_name(logicalrelid, partkey) FROM pg_dist_partition WHERE logicalrelid = '$schema.district_daily'::regclass) = 'district_code'
                        AND (SELECT partmethod FROM pg_dist_partition WHERE logicalrelid = '$schema.districts'::regclass) = 'n'")" = t
check "citus: shards placed on both workers" \
  test "$(sql citus "SELECT count(DISTINCT nodeport) FROM pg_dist_shard_placement p JOIN pg_dist_shard s USING (shardid)
                      WHERE s.logicalrelid = '$schema.incidents'::regclass")" = 2
check "single: nothing distributed" test "$(k single check 2>/dev/null | grep -c 'cluster.*none')" -ge 1
# Loads run as a login in the schema's loader role, reads as one in its reader role (migration 13's
# least privilege; on Citus the roles and grants must reach the workers).
for t in single citus; do
  sql "$t" "DROP ROLE IF EXISTS ${schema}_load; DROP ROLE IF EXISTS ${schema}_read;
            CREATE ROLE ${schema}_load LOGIN IN ROLE ${schema}_loader; CREATE ROLE ${schema}_read LOGIN IN ROLE ${schema}_reader" >/dev/null
done
export K_USER=${schema}_load

# ---- 2. the nightly pipeline on the bundled data --------------------------------------------------
both "nightly run" run --summary json
check "nightly: accounting adds up (citus)" adds_up "$work/citus.out"
compare "nightly"

# ---- 3. a year of incidents: new months, duplicates and broken rows --------------------------------
"$bench" generate --rows 30000 --seed 7 --out "$work/year.csv" >/dev/null
both "year load" run --summary json --date 2025-11-24 "$work/year.csv"
check "year: accounting adds up (citus)" adds_up "$work/citus.out"
compare "year"

# ---- 4. re-sent incidents that move area or month, and duplicates within the file ------------------
python3 - "$work/year.csv" "$work/resent.csv" <<'PY'
import csv, sys, datetime
rows = list(csv.reader(open(sys.argv[1], newline="")))
header, body = rows[0], [r for r in rows[1:] if len(r) == len(rows[0]) and r[0]]
i = {name: n for n, name in enumerate(header)}
out = [header]
for n, r in enumerate(body[:3000]):
    if n % 3 == 0:    # moves month: 40 days later
        try:
            t = datetime.datetime.fromisoformat(r[i["occurred_at"]]) + datetime.timedelta(days=40)
            r[i["occurred_at"]] = t.isoformat()
        except ValueError:
            pass
    if n % 3 == 1:    # moves area: another incident's place
        other = body[-1 - n]
        r[i["latitude"]], r[i["longitude"]] = other[i["latitude"]], other[i["longitude"]]
    r[i["updated_at"]] = "2025-12-01T08:00:00+03:00"
    out.append(r)
    if n % 10 == 0:   # the same id twice in the file: the later updated_at wins
        twin = list(r); twin[i["updated_at"]] = "2025-12-02T08:00:00+03:00"; twin[i["category"]] = "theft"
        out.append(twin)
csv.writer(open(sys.argv[2], "w", newline="")).writerows(out)
PY
both "re-sent incidents" run --summary json --date 2025-11-24 "$work/resent.csv"
check "re-sent: accounting adds up (citus)" adds_up "$work/citus.out"
check "re-sent: duplicates counted (citus)" python3 -c "import json,sys; s=json.load(open('$work/citus.out')); sys.exit(0 if s['rows_duplicate'] > 0 else 1)"
compare "re-sent"

# ---- 4b. an existing schema: loaded as plain tables on the coordinator, then distributed ----------------
# The way a deployment moves to Citus: the same loads as steps 2–4, the first two before `migrate`
# with database.distribution citus (which distributes populated tables and their month partitions).
upgrade=${schema}_upgrade
sql citus "DROP SCHEMA IF EXISTS $upgrade CASCADE" >/dev/null 2>&1 || true
S=$upgrade K_USER= k coordinator migrate >/dev/null
S=$upgrade K_USER= k coordinator run >/dev/null
S=$upgrade K_USER= k coordinator run --date 2025-11-24 "$work/year.csv" >/dev/null
check "upgrade: plain tables on the coordinator before" test "$(sql citus "SELECT count(*) FROM pg_dist_partition WHERE logicalrelid::text LIKE '$upgrade.%'")" = 0
rc=0; S=$upgrade K_USER= k citus migrate >/dev/null || rc=$?
check "upgrade: migrate with distribution citus" test $rc -eq 0
check "upgrade: populated incidents distributed, months included" \
  test "$(sql citus "SELECT count(*) > 12 FROM pg_dist_partition WHERE logicalrelid::text LIKE '$upgrade.incidents_%'")" = t
S=$upgrade K_USER= k citus run --date 2025-11-24 "$work/resent.csv" >/dev/null
compare "upgrade" "$upgrade"
sql citus "DROP SCHEMA $upgrade CASCADE" >/dev/null 2>&1

# ---- 5. the same file again changes no data; the fixture replays -----------------------------------
# (Each run records its own rejects and ledger row: those tables grow by design.)
fingerprint citus | grep -v -e pipeline_runs -e incident_rejects >"$work/before.fp"
both "same file again (--force)" run --force --date 2025-11-24 "$work/resent.csv"
fingerprint citus | grep -v -e pipeline_runs -e incident_rejects >"$work/after.fp"
check "again: no data table changed on the cluster" cmp -s "$work/before.fp" "$work/after.fp"
compare "again"
for fixture in fixtures/replay/*/; do
  K_USER= both "replay $(basename "$fixture")" replay "$fixture"
done
check "replay: scratch schemas dropped on the cluster" \
  test "$(sql citus "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'replay_%'")" = 0

# ---- 6. a year's backfill by two concurrent workers ------------------------------------------------
both "backfill enqueue" backfill --from 2024-11-25 --to 2025-11-24 --enqueue
for t in single citus; do
  rc=0
  k "$t" backfill --worker >/dev/null & w1=$!
  k "$t" backfill --worker >/dev/null & w2=$!
  wait $w1 || rc=$?; wait $w2 || rc=$?
  check "backfill: two workers on $t exit 0" test $rc -eq 0
  check "backfill: every chunk done on $t" test "$(sql "$t" "SELECT count(*) FILTER (WHERE status <> 'done') || '/' || count(*) FROM $schema.backfill_chunks")" = "0/13"
done
echo "      chunks per worker on the cluster: $(sql citus "SELECT string_agg(n::text, ' + ') FROM (SELECT count(*) n FROM $schema.backfill_chunks GROUP BY worker ORDER BY 1) x")"
compare "backfill"

# ---- 7. SIGKILL in the middle of a load -------------------------------------------------------------
"$bench" generate --rows 150000 --seed 11 --out "$work/big.csv" >/dev/null
for t in single citus; do
  fingerprint "$t" | grep -v pipeline_runs >"$work/$t.before-kill"
  # `exec`: the background job's pid is khareetaty's own, not a subshell's.
  ( K_EXEC=1 k "$t" run --date 2025-11-24 "$work/big.csv" >/dev/null ) & pid=$!
  # Killed once its COPY into staging is under way (the load's transaction holds rows by then).
  for _ in $(seq 600); do
    [ "$(sql "$t" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %incidents_stage%'")" -gt 0 ] && break
    sleep 0.1
  done
  sleep 1
  if kill -9 $pid 2>/dev/null; then ok "kill -9 on $t: the run was killed during its load"
  else bad "kill -9 on $t: the run ended before it could be killed"; fi
  wait $pid 2>/dev/null || true
  # The server ends the orphaned backend when it next reads from the dead socket.
  for _ in $(seq 100); do
    [ "$(sql "$t" "SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'COPY %incidents_stage%' OR state = 'idle in transaction'")" -eq 0 ] && break
    sleep 0.2
  done
  fingerprint "$t" | grep -v pipeline_runs >"$work/$t.after-kill"
  check "kill -9 on $t: no table changed" cmp -s "$work/$t.before-kill" "$work/$t.after-kill"
done
sql citus "SELECT recover_prepared_transactions()" >/dev/null
check "kill -9: no prepared transaction left on the workers" \
  test "$(sql citus "SELECT sum(result::int) FROM run_command_on_workers('SELECT count(*) FROM pg_prepared_xacts')")" = 0
check "kill -9: staging empty on the cluster" test "$(sql citus "SELECT count(*) FROM $schema.incidents_stage")" = 0
both "the killed load, run again" run --summary json --date 2025-11-24 "$work/big.csv"
check "after kill: accounting adds up (citus)" adds_up "$work/citus.out"
compare "after kill"

# ---- 8. the reader role reads the outputs, and incidents without their free text -----------------------
for t in single citus; do
  reader=$(url "$t"); reader=${reader/user=khareetaty/user=${schema}_read}
  check "reader on $t: incidents, counts, trends, cells and the named views" \
    "$pgbin/psql" "$reader" -v ON_ERROR_STOP=1 -Atqc "SELECT count(incident_id) FROM $schema.incidents; SELECT count(*) FROM $schema.district_trends_named;
                                                     SELECT count(*) FROM $schema.hotspot_cells_named; SELECT count(*) FROM $schema.district_daily_filled" -o /dev/null
  check "reader on $t: incidents.description refused" bash -c "! '$pgbin/psql' '$reader' -Atqc 'SELECT description FROM $schema.incidents LIMIT 1' 2>/dev/null"
done

# ---- 9. the operator's and the analyst's commands on the cluster ------------------------------------
rc=0; k citus check >"$work/check.out" || rc=$?
check "check as the loader on the cluster: exit 0 (privileges, cluster line)" test $rc -eq 0
check "check: the cluster line names Citus" grep -q 'cluster.*citus' "$work/check.out"
both "runs --last 5" runs --last 5
rc=0
K_USER=${schema}_read k single report --date 2025-11-24 --out "$work/report-single.html" >/dev/null || rc=$?
K_USER=${schema}_read k citus report --date 2025-11-24 --out "$work/report-citus.html" >/dev/null || rc=$?
check "report as the reader on both: exit 0" test $rc -eq 0
# The page's tables (top areas, trends, emerging patterns, the audit) with run ids and clock times masked.
tables_of() {
  python3 - "$1" <<'PY'
import re, sys
html = open(sys.argv[1], encoding="utf-8").read()
blocks = re.findall(r"<table.*?</table>", html, re.S)
text = "\n".join(blocks)
text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "<run>", text)
text = re.sub(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2})?[^<]*", "<time>", text)
text = re.sub(r"[0-9.]+ s\b", "<s>", text)
print(text)
PY
}
tables_of "$work/report-single.html" >"$work/report-single.tables"
tables_of "$work/report-citus.html" >"$work/report-citus.tables"
check "report: the same tables on both ($(grep -c '<tr' "$work/report-citus.tables") rows)" \
  cmp -s "$work/report-single.tables" "$work/report-citus.tables"

echo "test-citus: $(( $(date +%s) - started )) s (logs and table dumps in $work)"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
