import Foundation
import Geo
import Postgres
import Testing
import TestSupport
@testable import Analytics
@testable import KhareetatyCore

/// `district_trends` recomputed independently in Python (pymannkendall for the trend) from the
/// stored incidents of a year of synthetic data.
@Suite struct DistrictTrendsReferenceTests {
    @Test func trendsMatchAnIndependentComputation() throws {
        let input = try temporaryFile("year.csv", contents: "")
        _ = try shell("/usr/bin/python3", [repoPath("bench/generate_incidents.py"), "30000", input, "--seed", "5"])
        try withScratchSchema { db, schema in
            let summary = try nightlyRunner(db: db, schema: schema, asOf: "2025-06-30", inputs: [input]).run()
            #expect(summary.trendRows > 137)
            let s = quoteIdentifier(schema)
            let incidents = try db.query("SELECT local_date::text, district_code, category FROM \(s).incidents WHERE district_code IS NOT NULL").rows
            let districts = try db.query("SELECT code FROM \(s).districts").rows.map { $0[0]! }
            let script = """
                import json, sys, datetime as dt
                import pymannkendall as mk
                data = json.load(sys.stdin)
                D = dt.date.fromisoformat(data["as_of"]); weeks = 12
                counts = {}
                cats = {"all"}
                for day, district, cat in data["incidents"]:
                    back = (D - dt.date.fromisoformat(day)).days
                    if 0 <= back < 84:
                        cats.add(cat)
                    for c in (cat, "all"):
                        counts.setdefault((district, c), {}).setdefault(back, 0)
                        counts[(district, c)][back] += 1
                def window(d, start, n): return sum(d.get(b, 0) for b in range(start, start + n))
                out = {}
                for district in data["districts"]:
                    for cat in cats:
                        d = counts.get((district, cat), {})
                        c7, c28 = window(d, 0, 7), window(d, 0, 28)
                        base = sum(window(d, 7 * k, 7) for k in range(1, 5)) / 4
                        r = mk.original_test([window(d, 7 * k, 7) for k in reversed(range(weeks))])
                        out[district + "|" + cat] = [c7, c28, base, (c7 - base) / base * 100 if base else None,
                                                     (c7 - base) / base ** 0.5 if base else None, r.s, r.Tau, r.z, r.p, r.slope]
                print(json.dumps(out))
                """
            let reference = try #require(try pyref(script, input: ["as_of": "2025-06-30", "incidents": incidents, "districts": districts]) as? [String: [Any]])
            let rows = try db.query("""
                SELECT district_code, category, count_7d, count_28d, baseline_7d, change_pct, poisson_z, mk_s, mk_tau, mk_z, mk_p, sen_slope, trend_label
                FROM \(s).district_trends WHERE as_of_date = '2025-06-30'
                """).rows
            #expect(rows.count == reference.count)
            var compared = 0
            for row in rows {
                let expected = try #require(reference[row[0]! + "|" + row[1]!], "no reference for \(row[0]!) \(row[1]!)")
                for (k, e) in expected.enumerated() {
                    let actual = row[k + 2].flatMap(Double.init)
                    var want = (e as? NSNumber)?.doubleValue
                    // change_pct (column 5) is stored for people, to 0.1: the reference, rounded the same way.
                    if k + 2 == 5, let exact = want { want = (exact * 10).rounded() / 10 }
                    #expect((actual == nil) == (want == nil), "\(row[0]!) \(row[1]!) column \(k + 2)")
                    if let actual, let want { #expect(abs(actual - want) <= 1e-9 * max(1, abs(want)), "\(row[0]!) \(row[1]!) column \(k + 2): \(actual) vs \(want)") }
                }
                compared += 1
            }
            #expect(compared > 1000)
            // The history covers the 12 weeks: every row has real statistics, none is insufficient.
            #expect(try db.query("SELECT count(*) FROM \(s).district_trends WHERE mk_z IS NULL").scalar == "0")
            // The change label follows the exact test: count_7d of the five weeks' total ~ Binomial(total, 1/5),
            // twice the smaller tail (scipy's binomial distribution).
            let labelled = try db.query("""
                SELECT change_label, count_7d, (baseline_7d * 4)::int, change_p FROM \(s).district_trends WHERE as_of_date = '2025-06-30'
                """).rows
            let pScript = """
                import json, sys
                from scipy.stats import binom
                print(json.dumps([min(1.0, 2 * min(binom.sf(a - 1, a + b, 0.2), binom.cdf(a, a + b, 0.2))) if a + b > 0 else 1.0
                                  for a, b in json.load(sys.stdin)]))
                """
            let exact = try #require(try pyref(pScript, input: labelled.map { [Int($0[1]!)!, Int($0[2]!)!] }) as? [Double])
            var verdicts: Set<String> = []
            for (row, e) in zip(labelled, exact) {
                let (label, count, base, p) = (row[0]!, Int(row[1]!)!, Int(row[2]!)!, Double(row[3]!)!)
                verdicts.insert(label)
                #expect(abs(p - e) <= 1e-9 * max(e, 1e-300), "\(row): ours \(p), scipy \(e)")
                if count + base < DistrictTrends.minimumForChange { #expect(label == "too_few") }
                else if p < 0.05 { #expect(label == (Double(count) > Double(base) / 4 ? "increase" : "decrease")) }
                else { #expect(label == "no_change") }
            }
            #expect(verdicts.count >= 3 && verdicts.contains("no_change"), "\(verdicts)")
        }
    }

    @Test func shortHistoryIsInsufficientDataNeverAMadeUpNumber() throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let labels = try db.query("SELECT trend_label, count(*), count(mk_z) FROM \(quoteIdentifier(schema)).district_trends GROUP BY 1").rows
            #expect(labels.count == 1 && labels[0][0] == "insufficient_data" && labels[0][2] == "0")
            // The counts are still there.
            #expect(try db.query("SELECT sum(count_7d) > 0 FROM \(quoteIdentifier(schema)).district_trends WHERE category = 'all'").scalar == "t")
        }
    }
}

@Suite struct ProjectionReferenceTests {
    /// The string stored with a hot-spot grid reads back as the same projection (the report uses it).
    @Test func projStringReadsBack() {
        for tm in [TransverseMercator(lon0: 47.5, lat0: 29.3), TransverseMercator(lon0: -122.44, lat0: 37.76)] {
            #expect(TransverseMercator(proj: tm.proj) == tm)
        }
        #expect(TransverseMercator(proj: "+proj=tmerc +lat_0=29.3") == nil)
    }

    /// Against PROJ (pyproj) over Kuwait's bounding box; and the distance error against the
    /// ellipsoidal (geodesic) distance stays under 0.1%.
    @Test func transverseMercatorAgreesWithPROJ() throws {
        let tm = TransverseMercator(lon0: 47.5, lat0: 29.3)
        var generator = SplitMix64(seed: 8)
        let points = (0..<2_000).map { _ in GeoPoint(lon: 46.5 + generator.unit() * 2.2, lat: 28.5 + generator.unit() * 1.65) }
        let script = """
            import json, sys
            from pyproj import Transformer, Geod
            data = json.load(sys.stdin)
            t = Transformer.from_crs("EPSG:4326", data["proj"], always_xy=True)
            g = Geod(ellps="WGS84")
            pts = data["points"]
            xy = [t.transform(lon, lat) for lon, lat in pts]
            dist = [g.inv(pts[i][0], pts[i][1], pts[i + 1][0], pts[i + 1][1])[2] for i in range(len(pts) - 1)]
            print(json.dumps({"xy": xy, "dist": dist}))
            """
        let reference = try #require(try pyref(script, input: ["proj": tm.proj, "points": points.map { [$0.lon, $0.lat] }]) as? [String: Any])
        let xy = try #require(reference["xy"] as? [[Double]])
        let dist = try #require(reference["dist"] as? [Double])
        var worst = 0.0
        for (i, p) in points.enumerated() {
            let (x, y) = tm.forward(p)
            #expect(abs(x - xy[i][0]) < 0.01 && abs(y - xy[i][1]) < 0.01, "\(p): ours (\(x), \(y)), PROJ \(xy[i])")
            let back = tm.inverse(x: x, y: y)
            #expect(abs(back.lon - p.lon) < 1e-9 && abs(back.lat - p.lat) < 1e-9)
            if i + 1 < points.count, dist[i] > 1_000 {
                let (x2, y2) = tm.forward(points[i + 1])
                worst = max(worst, abs(((x2 - x) * (x2 - x) + (y2 - y) * (y2 - y)).squareRoot() - dist[i]) / dist[i])
            }
        }
        #expect(worst < 0.001, "distance error \(worst * 100)%")
    }
}

/// The bundled fixture run fills the hot-spot tables, and the stored z-scores are exactly what
/// esda computes from the stored grid definition and counts.
@Suite struct HotspotTablesTests {
    @Test func storedZScoresRecomputeWithEsda() throws {
        try withScratchSchema { db, schema in
            let summary = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            #expect(summary.hotspotCells > 0)
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            let s = quoteIdentifier(schema)
            let grids = try db.query("""
                SELECT window_days, n_cells, cell_size_m, projection, crs, study_areas FROM \(s).hotspot_grids WHERE analysis = 'hotspot' ORDER BY 1
                """).rows
            #expect(grids.map { $0[0] } == ["7", "28"])
            let g = try #require(grids.last)
            #expect(g[4] == "EPSG:32638")

            // The grid again, from what the row says: the stored CRS, cell size and study areas.
            let layer = try DistrictLayer.load(pipeline.boundaries)
            let study = try db.withTransaction { try Hotspots.studyDistricts(db: $0, schema: schema, asOf: "2026-11-24", layer: layer, settings: pipeline.aggregate) }
            #expect(String(study.count) == g[5])
            let projection = try #require(TransverseMercator(proj: g[3]!))
            let grid = HotspotGrid(layer: layer, studyDistricts: study, projection: projection, cellMetres: Double(g[2]!)!)
            #expect(String(grid.cells.count) == g[1])
            var slotOf: [String: Int] = [:]
            for (slot, cell) in grid.cells.enumerated() { slotOf["\(cell.col),\(cell.row)"] = slot }

            let stored = try db.query("SELECT cell_col, cell_row, incident_count, gi_z, gi_bin FROM \(s).hotspot_cells WHERE window_days = 28").rows
            var counts = [Double](repeating: 0, count: grid.cells.count)
            for row in stored { counts[try #require(slotOf["\(row[0]!),\(row[1]!)"])] = Double(row[2]!)! }
            #expect(counts.reduce(0, +) > 300, "the 28-day window holds the fixture's incidents")
            let script = """
                import json, sys, warnings
                warnings.filterwarnings("ignore")
                import numpy as np, libpysal, esda
                data = json.load(sys.stdin)
                w = libpysal.weights.W({i: nb for i, nb in enumerate(data["neighbours"])}, silence_warnings=True)
                g = esda.G_Local(np.array(data["y"], dtype=float), w, transform="B", star=True, permutations=0)
                idx = data["stored"]
                print(json.dumps([float(g.Zs[i]) for i in idx]))
                """
            let storedSlots = stored.map { slotOf["\($0[0]!),\($0[1]!)"]! }
            let reference = try #require(try pyref(script, input: ["y": counts, "neighbours": grid.neighbours.map { $0.map(Int.init) },
                                                                  "stored": storedSlots]) as? [Double])
            for (row, e) in zip(stored, reference) {
                let z = Double(row[3]!)!
                #expect(abs(z - e) <= 1e-9 * max(1, abs(e)), "cell \(row[0]!),\(row[1]!): stored \(z), esda \(e)")
            }
            // Every stored cell has incidents or a non-zero bin.
            #expect(stored.allSatisfy { $0[2] != "0" || $0[4] != "0" })
        }
    }
}
