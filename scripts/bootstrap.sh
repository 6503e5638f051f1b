#!/usr/bin/env bash
# Installs the Debian packages Khareetaty needs to build, test and run, if any are missing.
# Idempotent: with everything present it only checks. Uses sudo when not run as root.
set -euo pipefail

packages=(
  pkg-config
  libpq-dev            # libpq (CLibPQ)
  libcsv-dev           # libcsv (CLibCSV)
  libxml2-dev          # libxml2 (CLibXML2)
  zlib1g-dev           # zlib: gzip inputs (CZlib)
  libssl-dev           # libcrypto: SHA-256 of inputs and rules (CLibCrypto)
  libproj-dev          # PROJ: coordinates and boundaries in any CRS (CLibProj)
  libgeos-dev          # GEOS: boundary validity as strict as PostGIS's ST_IsValid (CLibGEOS)
  python3              # reference checks in tests (codecs, csv)
  python3-venv         # the PyPI reference packages (scripts/pyref.sh)
  postgresql-15        # the throwaway local cluster (scripts/local-db.sh)
  postgresql-15-postgis-3  # reference implementation the geometry tests compare against
  # Citus's build (scripts/citus-cluster.sh): the server's headers in the same `apt-get install`
  # as the server, so both are the same minor version (a later install can upgrade the server
  # under a running cluster, whose backends then fail with "undefined symbol").
  postgresql-server-dev-15
  liblz4-dev libzstd-dev libkrb5-dev
  build-essential
  openssl              # the TLS test's certificate authority
  systemd              # systemd-analyze checks the example units in deploy/systemd
  chromium             # the morning report is opened in a real browser by its test
  fonts-dejavu-core    # glyphs for Arabic area names in that browser
)

# `scripts/bootstrap.sh container`: also what `make test-container` builds and runs the image with.
if [ "${1:-}" = container ]; then
  packages+=(
    podman             # builds and runs the image (root, no daemon)
    runc               # its OCI runtime here (crun fails on this machine's cgroups)
    debootstrap        # the local Debian 12 base image: no registry is reachable
  )
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
# PostgreSQL's packages move together: when one is missing, the installed ones are named too, so
# apt brings all of them to the same minor version (headers built into an extension must match
# the server that loads it).
if printf '%s\n' "${missing[@]}" | grep -q '^postgresql-'; then
  for p in "${packages[@]}"; do
    case "$p" in postgresql-*) printf '%s\n' "${missing[@]}" | grep -qx "$p" || missing+=("$p") ;; esac
  done
  restart_note=1
fi

if [ "$(id -u)" -eq 0 ]; then sudo=(); else sudo=(sudo); fi
echo "bootstrap: installing ${missing[*]}" >&2

# Installing postgresql-15 must not start a system cluster on port 5432: while we install,
# a policy-rc.d that denies service starts is in place (unless the machine already has one).
policy=/usr/sbin/policy-rc.d
made_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee "$policy" >/dev/null
  "${sudo[@]}" chmod 755 "$policy"
  made_policy=1
fi
cleanup() { [ "$made_policy" = 1 ] && "${sudo[@]}" rm -f "$policy"; true; }
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "bootstrap: done" >&2
if [ "${restart_note:-0}" = 1 ]; then
  echo "bootstrap: PostgreSQL packages were installed or upgraded: restart running local clusters (scripts/local-db.sh stop; start)" >&2
fi
