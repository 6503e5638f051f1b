import Foundation
import Geo
import Logging
import Postgres
import Testing
import TestSupport
@testable import Analytics
@testable import KhareetatyCore

/// The hot-spot method is valid, not only equal to a reference: its tails against scipy and esda,
/// no false alarms on random data where the old normal approximation raised them, a planted
/// cluster found, cell ids that do not move, and too little data stated as such. (`make eval`
/// measures the same over many seeds and sizes: docs/ANALYTICS.md.)
@Suite struct HotspotValidityTests {
    static let pipeline = try! PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
    static let layer = try! DistrictLayer.load(pipeline.boundaries)

    /// Uniform over the union of the areas: uniform in projected metres, kept where it falls in an area.
    static func randomPoints(_ n: Int, seed: UInt64) -> [GeoPoint] {
        let tm = TransverseMercator.utm(epsg: 32638)!
        let box = layer.index.box
        let (x0, y0) = tm.forward(GeoPoint(lon: box.minLon, lat: box.minLat)), (x1, y1) = tm.forward(GeoPoint(lon: box.maxLon, lat: box.maxLat))
        var g = SplitMix64(seed: seed)
        var out: [GeoPoint] = []
        while out.count < n {
            let p = tm.inverse(x: x0 + g.unit() * (x1 - x0) , y: y0 + g.unit() * (y1 - y0))
            if layer.index.locate(p) != nil { out.append(p) }
        }
        return out
    }

    var settings: AggregateSettings.Hotspot {
        var h = Self.pipeline.aggregate.hotspot
        h.studyArea = .allDistricts  // one grid for every seed (the eval also tests the data-chosen study area)
        return h
    }

    /// Complete spatial randomness: the old normal approximation marked hundreds of cells; the
    /// exact test marks none at 95 % in at least 9 of 10 seeds.
    @Test func randomDataRaisesNoAlarm() throws {
        let cache = HotspotAnalysis.GridCache()
        var runsWithAny = 0, oldMethodCells = 0
        for seed in 0..<10 {
            let points = Self.randomPoints(500, seed: UInt64(100 + seed))
            let a = HotspotAnalysis.run(points: points, layer: Self.layer, study: Set(Self.layer.districts.indices), settings: settings, fdr: true, cache: cache)
            #expect(a.status == .ok && a.incidents == 500)
            if a.bins.contains(where: { abs($0) >= 2 }) { runsWithAny += 1 }
            oldMethodCells += GetisOrd.bins(z: a.z, fdr: true).filter { $0 != 0 }.count
        }
        #expect(runsWithAny <= 1, "\(runsWithAny) of 10 random runs had a significant cell")
        #expect(oldMethodCells > 100, "the normal approximation on the same data: \(oldMethodCells) cells (the failure this replaces)")
    }

    /// 30 incidents within 250 m on a 500-incident random background: found, and the significant
    /// cells are the cluster's.
    @Test func aPlantedClusterIsFound() throws {
        var points = Self.randomPoints(500, seed: 9)
        let tm = TransverseMercator.utm(epsg: 32638)!
        let centre = tm.forward(GeoPoint(lon: 47.98, lat: 29.37))  // Kuwait City
        var g = SplitMix64(seed: 10)
        while points.count < 530 {
            let (dx, dy) = ((g.unit() * 2 - 1) * 250, (g.unit() * 2 - 1) * 250)
            if dx * dx + dy * dy <= 250 * 250 { points.append(tm.inverse(x: centre.x + dx, y: centre.y + dy)) }
        }
        let a = HotspotAnalysis.run(points: points, layer: Self.layer, study: Set(Self.layer.districts.indices), settings: settings, fdr: true)
        let significant = a.bins.indices.filter { a.bins[$0] != 0 }
        func distance(_ slot: Int) -> Double {
            let c = a.grid.cells[slot]
            let (x, y) = ((Double(c.col) + 0.5) * a.grid.cellMetres, (Double(c.row) + 0.5) * a.grid.cellMetres)
            return ((x - centre.x) * (x - centre.x) + (y - centre.y) * (y - centre.y)).squareRoot()
        }
        #expect(significant.contains { a.bins[$0] == 3 && distance($0) <= 500 }, "the cluster is a 99 % hot spot")
        #expect(significant.allSatisfy { a.bins[$0] > 0 })
        #expect(Double(significant.filter { distance($0) <= 1_000 }.count) >= 0.9 * Double(significant.count))
    }

    /// A cell id is a place: the same points fall in the same (col, row) whether the boundary file
    /// lists its areas in another order or holds one more area far away.
    @Test func cellIdsSurviveABoundaryFileReorderedAndExtended() throws {
        let districts = Self.layer.districts
        var extra = districts[0]
        extra.code = "FAR-AWAY"
        extra.geometry = MultiPolygon([Polygon(outer: Ring([GeoPoint(lon: 44, lat: 27), GeoPoint(lon: 44.5, lat: 27), GeoPoint(lon: 44.5, lat: 27.5),
                                                            GeoPoint(lon: 44, lat: 27.5), GeoPoint(lon: 44, lat: 27)]))])
        let other = try DistrictLayer(districts: [extra] + districts.reversed())
        var h = settings
        h.cellMetres = 500
        let points = Self.randomPoints(2_000, seed: 3)
        let a = HotspotAnalysis.run(points: points, layer: Self.layer, study: Set(Self.layer.districts.indices), settings: h, fdr: true)
        let studyB = Set(other.districts.indices.filter { other.districts[$0].code != "FAR-AWAY" })
        let b = HotspotAnalysis.run(points: points, layer: other, study: studyB, settings: h, fdr: true)
        func cells(_ x: HotspotAnalysis) -> [String: Int] {
            Dictionary(uniqueKeysWithValues: x.grid.cells.indices.filter { x.counts[$0] > 0 }.map { ("\(x.grid.cells[$0].col),\(x.grid.cells[$0].row)", Int(x.counts[$0])) })
        }
        #expect(a.grid.projection == b.grid.projection && a.grid.projection == TransverseMercator.utm(epsg: 32638))
        #expect(cells(a) == cells(b))
        #expect(cells(a).count > 1_000)
    }
}

/// The database side: too little data is a state, baselines are missing before the history
/// starts, and backfills compute every derived table and redo what a later load made stale.
@Suite(.serialized) struct HotspotTableStateTests {
    /// The fixture's rows up to (or after) a day, as a CSV of its own.
    func fixtureRows(where keep: (String) -> Bool) throws -> String {
        let lines = try String(contentsOfFile: repoPath("fixtures/incidents/kuwait-sample.csv"), encoding: .utf8).split(separator: "\n")
        let rows = lines.dropFirst().filter { line in
            let occurred = line.split(separator: ",", omittingEmptySubsequences: false).dropFirst().first.map(String.init) ?? ""
            return keep(String(occurred.prefix(10)))
        }
        return try temporaryFile("part.csv", contents: ([String(lines[0])] + rows.map(String.init)).joined(separator: "\n") + "\n")
    }

    @Test func tooFewIncidentsIsInsufficientDataAndNoCellIsMarked() throws {
        let few = try fixtureRows { $0 == "2026-11-24" }
        try withScratchSchema { db, schema in
            let summary = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [few]).run()
            let s = quoteIdentifier(schema)
            let grids = try db.query("SELECT analysis, window_days, status, n_incidents FROM \(s).hotspot_grids ORDER BY 1, 2").rows
            #expect(grids.count == 3)
            #expect(grids.allSatisfy { $0[2] == "insufficient_data" && Int($0[3]!)! < 30 }, "\(grids)")
            #expect(try db.query("SELECT count(*) FROM \(s).hotspot_cells WHERE gi_bin <> 0 OR gi_p IS NOT NULL").scalar == "0")
            #expect(try db.query("SELECT count(*) > 0 FROM \(s).hotspot_cells").scalar == "t", "the counts are still there")
            #expect(summary.hotspotAnalyses.filter { $0.contains("insufficient data") }.count == 3)
            let layer = try DistrictLayer.load(HotspotValidityTests.pipeline.boundaries)
            let html = try MorningReport.load(db: db, schema: schema, asOf: "2026-11-24", layer: layer, presentation: ReportSettings()).html()
            #expect(html.contains("Too few incidents for a hot-spot analysis"))
            #expect(html.contains("Not enough history for emerging hot spots"))
        }
    }

    /// The fixture starts on 2026-11-01: as of 2026-11-24 the baseline window (10-21 … 11-17)
    /// is not covered, so no change is claimed (a covered one: DistrictTrendsReferenceTests).
    @Test func baselinesBeforeTheHistoryAreMissingNotZero() throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let s = quoteIdentifier(schema)
            let labels = try db.query("SELECT change_label, count(*), count(baseline_7d), count(change_pct), count(poisson_z) FROM \(s).district_trends GROUP BY 1").rows
            #expect(labels.count == 1 && labels[0][0] == "insufficient_data" && labels[0][2] == "0" && labels[0][3] == "0" && labels[0][4] == "0", "\(labels)")

            // A declared history_start later than the data moves the start on, never back.
            var declared = AggregateSettings()
            declared.historyStart = "2026-11-20"
            _ = try db.withTransaction { try DistrictTrends.rebuild(db: $0, schema: schema, days: CivilDate.parseISODate("2026-11-24")!...CivilDate.parseISODate("2026-11-24")!, settings: declared) }
            #expect(try db.query("SELECT count(*) FROM \(s).district_trends WHERE count_28d > 0").scalar != "0")
            #expect(try db.query("SELECT count(*) FROM \(s).district_trends WHERE change_label <> 'insufficient_data' OR trend_label <> 'insufficient_data'").scalar == "0")
        }
    }

    @Test func backfillComputesHotSpotsPerDateAndRedoesAChunkALaterLoadMadeStale() throws {
        let early = try fixtureRows { $0 < "2026-11-15" }
        let late = try fixtureRows { $0 >= "2026-11-15" }
        try withScratchSchema { db, schema in
            let first = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-14", inputs: [early]).run()
            let settings = try testSettings(schema: schema)
            let pipeline = HotspotValidityTests.pipeline
            var backfill = try Backfill(from: "2026-11-20", to: "2026-11-24", settings: settings, pipeline: pipeline, logger: Logger(label: "test"))
            let s = quoteIdentifier(schema)
            let one = try backfill.run()
            #expect(one.chunks == 1 && one.skipped == 0)
            // Trends for every date; the maps (three analyses) for the month's last date in the range only.
            #expect(try db.query("SELECT count(DISTINCT as_of_date) FROM \(s).district_trends WHERE as_of_date BETWEEN '2026-11-20' AND '2026-11-24'").scalar == "5")
            #expect(try db.query("SELECT min(as_of_date)::text, count(*) FROM \(s).hotspot_grids WHERE as_of_date BETWEEN '2026-11-20' AND '2026-11-24'").rows[0] == ["2026-11-24", "3"])
            let before = try db.query("SELECT n_incidents FROM \(s).hotspot_grids WHERE as_of_date = '2026-11-24' AND analysis = 'hotspot' AND window_days = 28").scalar
            // Same arguments, nothing new: the chunk is done.
            let again = try backfill.run()
            #expect(again.skipped == 1 && again.stale == 0)

            // The late rows arrive; the same backfill redoes the chunk it had finished.
            var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: [late])
            runner.asOfDate = "2026-11-24"
            let second = try runner.run()
            #expect(second.rowsLoaded > 0 && first.rowsLoaded > 0)
            let redo = try backfill.run()
            #expect(redo.stale == 1 && redo.skipped == 0, "\(redo)")
            let after = try db.query("SELECT n_incidents FROM \(s).hotspot_grids WHERE as_of_date = '2026-11-24' AND analysis = 'hotspot' AND window_days = 28").scalar
            #expect(Int(after ?? "0")! > Int(before ?? "0")!)
            backfill.recompute = true
            #expect(try backfill.run().stale == 1)
        }
    }

    /// `aggregate.backfill_grids`: which dates of a backfill get the maps. The trends are the same
    /// whatever the cadence, and equal to those the dates' own runs computed.
    @Test func backfillComputesTheMapsOnTheDatesItsCadencePicksAndTheSameTrends() throws {
        try withScratchSchema { db, schema in
            _ = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24").run()
            let s = quoteIdentifier(schema)
            let settings = try testSettings(schema: schema)
            // The dates' own trends, one date at a time (a nightly run's path).
            for day in ["2026-10-30", "2026-10-31", "2026-11-01", "2026-11-07", "2026-11-24"] {
                _ = try db.withTransaction { try DerivedTables.rebuild(db: $0, schema: schema, asOf: day, layer: HotspotValidityTests.layer,
                                                                         settings: HotspotValidityTests.pipeline.aggregate, cache: .init()) }
            }
            let trends = "SELECT * FROM \(s).district_trends WHERE as_of_date IN ('2026-10-30', '2026-10-31', '2026-11-01', '2026-11-07', '2026-11-24') ORDER BY as_of_date, district_code, category"
            let oneByOne = try db.query(trends).rows
            #expect(oneByOne.count > 5)
            let maps = "SELECT as_of_date::text FROM \(s).hotspot_grids WHERE analysis = 'hotspot' AND window_days = 7 ORDER BY 1"
            for (cadence, dates) in [(AggregateSettings.BackfillGrids.monthly, ["2026-10-31", "2026-11-24"]),
                                     (.weekly, ["2026-10-27", "2026-11-03", "2026-11-10", "2026-11-17", "2026-11-24"]),
                                     (.daily, (0..<30).map { CivilDate.isoDate(days: CivilDate.parseISODate("2026-10-26")! + $0) })] {
                var pipeline = HotspotValidityTests.pipeline
                pipeline.aggregate.backfillGrids = cadence
                var backfill = try Backfill(from: "2026-10-26", to: "2026-11-24", settings: settings, pipeline: pipeline, logger: Logger(label: "test"))
                backfill.recompute = true
                #expect(try backfill.run().chunks == 2)
                #expect(try db.query(maps).rows.map { $0[0]! } == dates, "\(cadence)")
                // Every date in the range has its trends, and they are the dates' own.
                #expect(try db.query("SELECT count(DISTINCT as_of_date) FROM \(s).district_trends WHERE as_of_date BETWEEN '2026-10-26' AND '2026-11-24'").scalar == "30")
                #expect(try db.query(trends).rows == oneByOne, "\(cadence)")
                // The emerging analysis and its cells follow the same dates.
                #expect(try db.query("SELECT DISTINCT as_of_date::text FROM \(s).hotspot_grids WHERE analysis = 'emerging' ORDER BY 1").rows.map { $0[0]! } == dates)
                #expect(try db.query("SELECT count(*) FROM \(s).emerging_hotspots WHERE NOT as_of_date = ANY ($1::date[])", ["{\(dates.joined(separator: ","))}"]).scalar == "0")
            }
        }
    }
}
