# Khareetaty — the two commands a newcomer needs are `make run` and `make test` (see README.md).
# Both install missing Debian packages, start the throwaway local PostgreSQL and build first.

SWIFT      ?= swift
LOCALDB    := scripts/local-db.sh
BIN        := .build/debug/khareetaty

.PHONY: run test test-container test-citus citus citus-stop bench bench-scaling eval report-screenshot build bootstrap db db-stop db-status clean-db dictionary

## run: the nightly pipeline on the bundled fixtures, against the local database, as of the
## data's last day (the bundled export ends before "yesterday"), then its morning report
run: bootstrap build
	@url=$$($(LOCALDB) start) && \
	  DATABASE_URL="$$url" $(BIN) migrate && \
	  DATABASE_URL="$$url" $(BIN) check && \
	  DATABASE_URL="$$url" $(BIN) run --pipeline pipelines/nightly.yaml --date latest && \
	  DATABASE_URL="$$url" $(BIN) report --pipeline pipelines/nightly.yaml --date latest --out khareetaty-report.html

## test: the whole test suite against a real PostgreSQL
test: bootstrap
	@scripts/pyref.sh
	@url=$$($(LOCALDB) start) && \
	  KHAREETATY_TEST_DATABASE_URL="$$url" $(SWIFT) test

## bench: the geocode kernel and whole runs at 1M/5M incidents, written into docs/BENCHMARKS.md
bench: bootstrap
	@bench/run.sh

## bench-scaling: a 5M-row load and a year's backfill on one PostgreSQL vs the local Citus cluster (docs/SCALING.md)
bench-scaling: bootstrap
	@bench/scaling.sh

## eval: the hot-spot method on simulated data (false alarms, planted clusters), into docs/ANALYTICS.md
eval: bootstrap
	$(SWIFT) build -c release --product khareetaty-bench
	.build/release/khareetaty-bench eval --seeds 20 --out docs/ANALYTICS.md

## report-screenshot: docs/report.png, the fixture's morning report in headless Chromium
report-screenshot: bootstrap
	@scripts/report-screenshot.sh

build: bootstrap
	$(SWIFT) build

## test-container: the image's runtime stage built from a local Debian 12 base (debootstrap) and
## the host's binary, run with podman against the local database (needs root; CI runs it)
test-container: bootstrap
	@scripts/test-container.sh

## test-citus: the pipeline on a Citus 13.0.5 cluster (coordinator + two workers, built from
## ../shared/vendor/citus when missing), every output table compared with single-node PostgreSQL
test-citus: bootstrap
	@scripts/test-citus.sh

## citus / citus-stop: start (building Citus first when missing) or stop the local Citus cluster
citus: bootstrap
	@scripts/citus-cluster.sh start

citus-stop:
	@scripts/citus-cluster.sh stop

bootstrap:
	@scripts/bootstrap.sh

## db: start the local cluster (idempotent) and print its connection string
db: bootstrap
	@$(LOCALDB) start

db-stop:
	@$(LOCALDB) stop

db-status:
	@$(LOCALDB) status

## clean-db: stop the local cluster and delete its data
clean-db: db-stop
	rm -rf .localdb

## dictionary: regenerate docs/DATA-DICTIONARY.md from a freshly migrated scratch schema's comments
dictionary: bootstrap
	@url=$$($(LOCALDB) start) && \
	  psql "$$url" -qc "SET client_min_messages = warning; DROP SCHEMA IF EXISTS dictionary_scratch CASCADE" && \
	  $(SWIFT) build --product khareetaty >/dev/null && \
	  DATABASE_URL="$$url" KHAREETATY_DATABASE_SCHEMA=dictionary_scratch .build/debug/khareetaty migrate >/dev/null && \
	  DATABASE_URL="$$url" KHAREETATY_DATABASE_SCHEMA=dictionary_scratch .build/debug/khareetaty dictionary > docs/DATA-DICTIONARY.md && \
	  psql "$$url" -qc "SET client_min_messages = warning; DROP SCHEMA dictionary_scratch CASCADE"
