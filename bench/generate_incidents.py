#!/usr/bin/env python3
"""Deterministic synthetic Kuwait incidents for benchmarks: N rows of the nightly CSV schema.
Usage: bench/generate_incidents.py N OUT.csv [--seed S]
Points are uniform over Kuwait's bounding box, so a good share falls in no area (sea, desert);
timestamps span 2026; categories follow config/categories.yaml's English names."""
import random, sys

def main():
    n, out = int(sys.argv[1]), sys.argv[2]
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 20261125
    rng = random.Random(seed)
    cats = ["theft", "burglary", "assault", "vehicle theft", "traffic accident", "drugs", "fraud", "vandalism"]
    with open(out, "w") as f:
        f.write("incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n")
        base = 1732482000  # 2024-11-25T00:00:00+03:00: a year of incidents, all in the past
        lines = []
        for i in range(n):
            t = base + rng.randrange(0, 364 * 86400)
            lat = 28.55 + rng.random() * 1.5
            lon = 46.6 + rng.random() * 1.8
            lines.append(f"B-{i:08d},{t},{cats[rng.randrange(8)]},{lat:.6f},{lon:.6f},,synthetic,\n")
            if len(lines) == 100000:
                f.writelines(lines); lines.clear()
        f.writelines(lines)

main()
