#!/usr/bin/env python3
"""Writes fixtures/incidents/kuwait-sample.csv: a small, deterministic (seeded) export of
synthetic Kuwait incidents over the real area polygons, with a handful of deliberately bad rows
(so the fixture exercises rejects and duplicates). Run from the repo root; output is committed."""
import csv, json, random

rng = random.Random(20261124)
areas = json.load(open("fixtures/boundaries/kuwait/geoBoundaries-KWT-ADM2.geojson"))["features"]

def rings(geom):
    polys = geom["coordinates"] if geom["type"] == "MultiPolygon" else [geom["coordinates"]]
    return [r for p in polys for r in p]

def inside(pt, geom):
    x, y = pt; c = False
    for ring in rings(geom):
        for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
            if (y1 > y) != (y2 > y) and x < (x2 - x1) * (y - y1) / (y2 - y1) + x1:
                c = not c
    return c

def point_in(feature):
    xs = [p[0] for r in rings(feature["geometry"]) for p in r]
    ys = [p[1] for r in rings(feature["geometry"]) for p in r]
    while True:
        pt = (rng.uniform(min(xs), max(xs)), rng.uniform(min(ys), max(ys)))
        if inside(pt, feature["geometry"]):
            return pt

dense = [f for f in areas if f["properties"]["shapeName"] in ("Salmiya", "Hawalli", "Farwaniya", "Jleeb_Al- Shiyoukh", "Kuwait_City", "Mahboula")]
categories = ["theft", "burglary", "assault", "vehicle theft", "Traffic Accident", "drugs", "fraud", "vandalism"]
rows = []
for i in range(1, 361):
    f = rng.choice(dense) if dense and rng.random() < 0.5 else rng.choice(areas)
    lon, lat = point_in(f)
    day = rng.randint(1, 24)
    ts = f"2026-11-{day:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00+03:00"
    rows.append([f"KW-2026-{i:06d}", ts, rng.choice(categories), f"{lat:.6f}", f"{lon:.6f}",
                 f["properties"]["shapeName"].replace("_", " "), "synthetic incident", ""])
# Deliberately bad or special rows, each with a known fate:
rows.append(["KW-2026-000010", "2026-11-10T09:00:00+03:00", "theft", "29.3375", "48.0716", "Salmiya", "re-sent with a correction", "2026-11-11T08:00:00+03:00"])  # duplicate id → kept (later updated_at)
rows.append(["", "2026-11-12T10:00:00+03:00", "theft", "29.33", "48.07", "Salmiya", "no id", ""])  # missing_id
rows.append(["KW-2026-900001", "31/02/2026 10:00", "assault", "29.33", "48.07", "Hawalli", "bad date", ""])  # bad_timestamp
rows.append(["KW-2026-900002", "2026-11-13T11:00:00+03:00", "fraud", "35.1", "48.0", "", "outside Kuwait", ""])  # bad_coordinates
rows.append(["KW-2026-900003", "2026-11-14T12:00:00+03:00", "", "29.37", "47.98", "Kuwait City", "no category", ""])  # missing_category
rows.append(["KW-2026-900004", "2026-11-15 13:30", "drugs", "", "", "Salmiya", "no GPS, naive local time", ""])  # loaded, unassigned
rows.append(["KW-2026-900005", "2026-11-16T14:00:00Z", "vandalism", "0", "0", "Jabriya", "(0,0) means no GPS", ""])  # loaded, unassigned

with open("fixtures/incidents/kuwait-sample.csv", "w", newline="") as out:
    w = csv.writer(out, lineterminator="\n")
    w.writerow(["incident_id", "occurred_at", "category", "latitude", "longitude", "area", "description", "updated_at"])
    w.writerows(rows)
print(len(rows), "rows")
