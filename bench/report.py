#!/usr/bin/env python3
"""Markdown tables for docs/BENCHMARKS.md from bench/run.sh's raw results (one JSON object a line):
medians of interleaved repetitions, the ratio to the floor measured in the same run, seconds per
stage, and the issue's targets marked met or missed (by how much)."""
import json, statistics, sys
from collections import defaultdict

WAYS = {
    "floor": "floor: `psql \\copy` of the raw CSV into an unindexed table",
    "daily": "Khareetaty, the peers' job (`pipelines/bench-daily.yaml`: clean, geocode, incidents with PK, daily counts)",
    "nightly": "Khareetaty, full nightly pipeline (+ trends, Gi* hot spots 7 & 28 days, emerging hot spots)",
    "duckdb": "DuckDB + spatial + postgres extensions: read, clean, latest per id, spatial join, incidents and daily counts into PostgreSQL, PKs (`bench/duckdb_way.py`)",
    "postgis": "PostGIS: `\\copy`, `ST_Covers` on a GiST index, `DISTINCT ON`, PK, `GROUP BY` (`bench/postgis.sql`)",
}
STAGES = [("ingest_clean_geocode", "read + clean + geocode (producer thread, overlaps load)"),
          ("load", "binary COPY into staging (loading thread)"),
          ("finish", "duplicates, partitions, indexes, daily counts"),
          ("aggregate", "trends, hot spots, emerging hot spots")]

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by = defaultdict(list)
for r in rows:
    by[(r["n"], r["way"])].append(r)
sizes = sorted({r["n"] for r in rows})
med = lambda xs: statistics.median(xs)

print("| incidents | way | median wall s | × floor | min – max s | client peak RSS | runs |")
print("|---:|---|---:|---:|---:|---:|---:|")
ratio = {}
for n in sizes:
    floor = med([r["wall"] for r in by[(n, "floor")]]) if by[(n, "floor")] else None
    for way in WAYS:
        rs = by[(n, way)]
        if not rs:
            continue
        wall = med([r["wall"] for r in rs])
        ratio[(n, way)] = wall / floor if floor else None
        rss = "—" if way == "postgis" else f"{med([r['rss_mb'] for r in rs]):.0f} MB"
        x = f"{ratio[(n, way)]:.1f}" if floor else "—"
        print(f"| {n:,} | {WAYS[way]} | {wall:.2f} | {x} | {min(r['wall'] for r in rs):.2f} – {max(r['wall'] for r in rs):.2f} | {rss} | {len(rs)} |")

print()
print("Seconds per stage (medians; the two first run at the same time on two threads, so shares add up to more than 100%):")
print()
print("| incidents | pipeline | stage | s | rows/s | share of wall |")
print("|---:|---|---|---:|---:|---:|")
for n in sizes:
    for way in ("daily", "nightly"):
        rs = by[(n, way)]
        if not rs:
            continue
        wall = med([r["wall"] for r in rs])
        for key, name in STAGES:
            s = med([r["stages"].get(key, 0.0) for r in rs])
            if way == "daily" and key == "aggregate":
                continue
            print(f"| {n:,} | {way} | {name} | {s:.2f} | {n / s / 1e6:.2f} M | {s / wall * 100:.0f}% |" if s > 0
                  else f"| {n:,} | {way} | {name} | 0 | — | 0% |")

print()
print("Targets (issue 18), from the medians above (ratios in the same run):")
print()
def verdict(value, limit, unit=""):
    return f"met ({value:.2f}{unit} ≤ {limit}{unit})" if value <= limit else f"**missed** ({value:.2f}{unit}, {value / limit:.2f}× the target of {limit}{unit})"
for n in sizes:
    if ratio.get((n, "daily")) and by[(n, "duckdb")]:
        d, k = med([r["wall"] for r in by[(n, "duckdb")]]), med([r["wall"] for r in by[(n, "daily")]])
        print(f"- {n:,} rows, peers' job below DuckDB's median ({d:.2f} s): {verdict(k / d, 1.0, '× DuckDB')}")
    if ratio.get((n, "daily")):
        print(f"- {n:,} rows, peers' job ≤ 2× floor: {verdict(ratio[(n, 'daily')], 2, '×')}")
    if ratio.get((n, "nightly")):
        print(f"- {n:,} rows, full nightly ≤ 3× floor: {verdict(ratio[(n, 'nightly')], 3, '×')}")
# Peak RSS per pipeline: the peers' job streams; the nightly adds the hot-spot grids, whose
# size is set by the data's extent and aggregate.hotspot_max_cells, not by the rows.
for way, label in (("daily", "peers' job"), ("nightly", "full nightly")):
    peak = {n: max(r["rss_mb"] for r in by[(n, way)]) for n in sizes if by[(n, way)]}
    if 1_000_000 in peak:
        print(f"- {label}: client peak RSS < 128 MB at 1M rows: {verdict(peak[1_000_000], 128, ' MB')}")
    if len(peak) > 1:
        small, large = min(peak), max(peak)
        print(f"- {label}: peak RSS at {large:,} within 1.25× of {small:,}: {verdict(peak[large] / peak[small], 1.25, '×')}")
for n in sizes:
    if by[(n, "duckdb")]:
        a = by[(n, "duckdb")][0]["accounting"]
        print(f"- {n:,} rows, DuckDB kept {a['rows_loaded']:,} and assigned {a['rows_assigned']:,} (no snapping to the nearest area)")
    if by[(n, "postgis")] and by[(n, "daily")]:
        p, d = med([r["wall"] for r in by[(n, "postgis")]]), med([r["wall"] for r in by[(n, "daily")]])
        print(f"- {n:,} rows: the peers' job is {p / d:.1f}× faster than the PostGIS way")
