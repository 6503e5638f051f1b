#!/usr/bin/env bash
# make test-container: builds the image's runtime stage and runs it against the local PostgreSQL,
# as a deployment would. No registry is reachable here, so the base is a Debian 12 root file system
# made by debootstrap from the machine's own Debian mirror and imported into podman, and the binary
# is built on the host (same Debian 12, same libraries) with the Swift runtime linked statically:
# the `runtime-prebuilt` target of the Dockerfile, whose runtime base is the one the default
# target (a build on the official Swift image) uses.
#
# Checks, each printed as ok/FAIL, closing with "N passed, N failed" (exit 1 on any failure):
# the image runs as a non-root user and holds no build tools; `migrate` as the schema's migrate
# role (member of its owner role), `check`, a `run` of a file in the mounted inbox as the loader
# role, and `report` as the reader role exit 0; the run's accounting (`--summary json`) adds up;
# the report and the metrics textfile appear in the host folders mounted as volumes.
# Needs root (debootstrap, podman): CI runs as root.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)

[ "$(id -u)" -eq 0 ] || { echo "test-container: needs root (debootstrap and rootful podman)" >&2; exit 1; }
scripts/bootstrap.sh container

podman=(podman --runtime runc --cgroup-manager=cgroupfs)
limits=(--ulimit nofile=20000:20000 --ulimit nproc=4096:4096)
base=localhost/khareetaty-base:bookworm
image=localhost/khareetaty:test
work=$repo/.build/container
mkdir -p "$work"

# ---- the local Debian 12 base image (once per machine) -----------------------------------------------
if ! "${podman[@]}" image exists "$base"; then
  # The machine's Debian mirror, from its apt sources (deb822 or one-line form).
  mirror=$( { cat /etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list /etc/apt/sources.list 2>/dev/null || true; } \
             | grep -E '^(URIs:|deb )' | grep -v security | head -1 | sed -E 's/^URIs: *//; s/^deb (\[[^]]*\] )?//; s/ .*//')
  [ -n "$mirror" ] || { echo "test-container: no Debian mirror found in /etc/apt" >&2; exit 1; }
  echo "test-container: debootstrap bookworm from $mirror" >&2
  rootfs=$(mktemp -d /tmp/khareetaty-rootfs.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  debootstrap --variant=minbase bookworm "$rootfs" "$mirror" >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; exit 1; }
  # apt inside the image uses the same mirror.
  echo "deb $mirror bookworm main" > "$rootfs/etc/apt/sources.list"
  tar -C "$rootfs" -c . | "${podman[@]}" import - "$base" >/dev/null 2>&1
  rm -rf "$rootfs"; trap - EXIT
fi

# ---- the binary, Swift runtime linked statically ---------------------------------------------------
echo "test-container: building the static binary" >&2
swift build -c release --product khareetaty --static-swift-stdlib --scratch-path .build/static 2>&1 | tail -1 >&2
context=$work/context
rm -rf "$context"; mkdir -p "$context"
cp Dockerfile "$context/"
cp -r config pipelines fixtures "$context/"
cp .build/static/release/khareetaty "$context/khareetaty"

# ---- the image --------------------------------------------------------------------------------------
echo "test-container: podman build --target runtime-prebuilt" >&2
start=$(date +%s)
"${podman[@]}" build --network=host "${limits[@]}" --target runtime-prebuilt \
  --build-arg RUNTIME_IMAGE="$base" -t "$image" "$context" >"$work/build.log" 2>&1 \
  || { tail -30 "$work/build.log" >&2; exit 1; }
build_seconds=$(( $(date +%s) - start ))
size=$("${podman[@]}" image inspect --format '{{.Size}}' "$image")
echo "test-container: image $image, $(( size / 1000000 )) MB, runtime stage built in ${build_seconds} s" >&2

# ---- the database and the roles ----------------------------------------------------------------------
url=$(scripts/local-db.sh start)
schema=container_test
PGOPTIONS="-c client_min_messages=warning" psql "$url" -q -v ON_ERROR_STOP=1 -c "DROP SCHEMA IF EXISTS $schema CASCADE"
psql "$url" -q -v ON_ERROR_STOP=1 -v schema=$schema -v password=unused -f deploy/compose/roles.sql
# TCP on the loopback (the container shares the host's network): the local cluster trusts it.
port=$(sed -E 's/.*port=([0-9]+).*/\1/' <<<"$url")
tcp() { echo "postgresql://${schema}_$1@127.0.0.1:$port/khareetaty"; }

passed=0; failed=0
check() {  # check NAME COMMAND…: ok when the command succeeds
  local name=$1; shift
  if "$@" >>"$work/checks.log" 2>&1; then echo "ok   $name"; passed=$((passed + 1)); else echo "FAIL $name"; failed=$((failed + 1)); fi
}

data=$(mktemp -d /tmp/khareetaty-container.XXXXXX)
mkdir -p "$data/inbox" "$data/reports" "$data/metrics"
cp fixtures/incidents/kuwait-sample.csv "$data/inbox/"
chmod -R a+rwX "$data"
: >"$work/checks.log"

run() {  # run ROLE ARGS…: the image as a deployment runs it, its output in $work/last.out
  local role=$1; shift
  "${podman[@]}" run --rm --network=host "${limits[@]}" \
    -e DATABASE_URL="$(tcp "$role")" -e KHAREETATY_DATABASE_SCHEMA=$schema -e KHAREETATY_INBOX_SETTLE_SECONDS=0 \
    -e KHAREETATY_LOG_FORMAT=json \
    -v "$data/inbox:/data/inbox" -v "$data/reports:/data/reports" -v "$data/metrics:/data/metrics" \
    "$image" "$@" >"$work/last.out" 2>>"$work/checks.log"
}

check "the image's user is not root" test "$("${podman[@]}" image inspect --format '{{.Config.User}}' "$image")" = khareetaty
check "the container runs as uid 10001" test "$("${podman[@]}" run --rm "${limits[@]}" --entrypoint id "$image" -u)" = 10001
check "no build tools in the image" "${podman[@]}" run --rm "${limits[@]}" --entrypoint /bin/sh "$image" -c \
  'for t in swift swiftc cc gcc clang ld make pkg-config; do command -v $t && exit 1; done; exit 0'
usage_only() { "${podman[@]}" run --rm "${limits[@]}" "$image" | grep -q USAGE; }
check "the default command only prints the usage" usage_only
check "migrate as the migrate role exits 0" run migrate migrate
check "check as the loader role exits 0" run nightly check
check "run of the inbox as the loader role exits 0" run nightly run --date latest --summary json
cp "$work/last.out" "$work/summary.json"
check "the run's accounting adds up (read = loaded + rejected + duplicates)" python3 - "$work/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
read, loaded, rejected, dup = s["rows_read"], s["rows_loaded"], s["rows_rejected"], s["rows_duplicate"]
assert loaded > 0 and read == loaded + rejected + dup, s
assert [i["path"] for i in s["inputs"]] == ["/data/inbox/kuwait-sample.csv"], s["inputs"]
PY
check "the morning report of the run is on the host" sh -c "ls '$data/reports'/khareetaty-*.html"
check "the metrics textfile is on the host, the run a success" grep -q '^khareetaty_last_run_success{.*} 1' "$data/metrics/khareetaty-nightly.prom"
check "report as the reader role exits 0" run analyst report --date latest --out /data/reports/morning.html
check "the reader's report is on the host" grep -q '<html' "$data/reports/morning.html"
refused() { ! "$@"; }
check "the reader role cannot load" refused run analyst run --date latest

echo "image: $(( size / 1000000 )) MB; runtime stage built in ${build_seconds} s (base image and binary excluded)" | tee "$work/image.txt"
rm -rf "$data"
PGOPTIONS="-c client_min_messages=warning" psql "$url" -q -c "DROP SCHEMA IF EXISTS $schema CASCADE"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
