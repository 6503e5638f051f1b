import Foundation
import Logging
import Postgres
import PropertyBased
import Testing
import TestSupport
@testable import KhareetatyCore

/// The two ways a month reaches `incidents`: a month without a partition is built as a table,
/// indexed and attached; a month with one takes an INSERT. Both must give the same tables, and an
/// attached month must carry the same keys and indexes as one created the ordinary way.
@Suite struct LoadPathTests {
    let inputs = [repoPath("fixtures/incidents/kuwait-sample.csv"), repoPath("fixtures/incidents/messy/kuwait-messy.csv"),
                  repoPath("fixtures/incidents/xml/kuwait-feed.xml")]

    /// The staging COPY's layout is the one description of an incident row: it names every column
    /// `incidents` has (a migration adding one must add it there too), and staging's two more.
    @Test func theStagingLayoutNamesEveryColumnOfIncidents() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            func columns(_ table: String) throws -> Set<String> {
                Set(try db.query("""
                    SELECT column_name FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2
                    """, [schema, table]).rows.compactMap { $0[0] })
            }
            #expect(try columns("incidents") == Set(IncidentStore.incidentColumns))
            #expect(Set(IncidentStore.stageLayout.names).subtracting(IncidentStore.incidentColumns) == ["seq", "maybe_repeat"])
            #expect(try columns("incident_rejects").isSuperset(of: IncidentStore.rejectLayout.names))
        }
    }

    func load(schema: String, db: PostgresConnection, precreate: Bool) throws -> RunSummary {
        var runner = try nightlyRunner(db: db, schema: schema, asOf: "2026-11-24", inputs: inputs)
        runner.pipeline.clean.maxRejectRatio = 0.5
        if precreate {
            // Every month of the inputs already has its (empty) partition, as on a nightly run.
            try db.execute("""
                DO $$ DECLARE m date; BEGIN
                FOR m IN SELECT generate_series(date '2015-01-01', date '2027-12-01', interval '1 month') LOOP
                    EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.incidents FOR VALUES FROM (%L) TO (%L)',
                                   '\(schema)', 'incidents_' || to_char(m, 'YYYY_MM'), '\(schema)', m, (m + interval '1 month')::date);
                END LOOP; END $$
                """)
        }
        return try runner.run()
    }

    func contents(_ db: PostgresConnection, _ schema: String) throws -> [[String?]] {
        let s = quoteIdentifier(schema)
        return try db.query("""
            SELECT 'i', incident_id, local_date::text, district_code, category, geocode_method, source_line::text, array_to_string(flags, ',') FROM \(s).incidents
            UNION ALL SELECT 'd', local_date::text, district_code, category, incident_count::text, NULL, NULL, NULL FROM \(s).district_daily
            UNION ALL SELECT 'r', source_file, source_line::text, reason_code, NULL, NULL, NULL, NULL FROM \(s).incident_rejects
            ORDER BY 1, 2, 3, 4, 5
            """).rows.map { row in row.map { $0?.replacingOccurrences(of: "\(schema)", with: "S") } }
    }

    @Test func newAndExistingMonthsGiveTheSameTables() throws {
        try withScratchSchema { db, attached in
            let first = try load(schema: attached, db: db, precreate: false)
            try withScratchSchema { db2, inserted in
                let second = try load(schema: inserted, db: db2, precreate: true)
                #expect(first.accountingHolds && second.accountingHolds)
                #expect(first.rowsLoaded == second.rowsLoaded && first.rowsDuplicate == second.rowsDuplicate)
                #expect(first.rowsLoaded > 300)
                let a = try contents(db, attached), b = try contents(db2, inserted)
                #expect(a.count == b.count)
                #expect(a == b)
            }
        }
    }

    @Test func anAttachedMonthHasTheKeysAndIndexes() throws {
        try withScratchSchema { db, schema in
            _ = try load(schema: schema, db: db, precreate: false)
            let partition = try #require(try db.query("""
                SELECT c.relname FROM pg_inherits JOIN pg_class c ON c.oid = inhrelid JOIN pg_class p ON p.oid = inhparent
                JOIN pg_namespace n ON n.oid = p.relnamespace WHERE n.nspname = $1 AND p.relname = 'incidents' ORDER BY 1 LIMIT 1
                """, [schema]).scalar)
            let indexes = try db.query("SELECT indexdef FROM pg_indexes WHERE schemaname = $1 AND tablename = $2 ORDER BY 1",
                                       [schema, partition]).rows.map { $0[0]! }
            #expect(indexes.count == 2, "\(indexes)")
            #expect(indexes.contains { $0.contains("UNIQUE") && $0.contains("(incident_id, local_date)") })
            #expect(indexes.contains { $0.contains("(local_date)") && !$0.contains("UNIQUE") })
            // The key is enforced through the parent.
            let s = quoteIdentifier(schema)
            do {
                try db.execute("INSERT INTO \(s).incidents SELECT * FROM \(s).\(quoteIdentifier(partition)) LIMIT 1")
                Issue.record("a duplicate key was accepted")
            } catch let error as PostgresError {
                #expect(error.sqlState == "23505")
            }
        }
    }
}

/// After every run of a random sequence — ids repeated within and across files, later and earlier
/// updated_at, blank ones, incidents moving day, area and category, month-only and unassigned
/// ones, new months (counted by the loader, `NewMonthCounts`) beside months that held incidents
/// (recounted) — the daily and monthly counts equal a recount of `incidents`.
@Suite struct CountDeltaTests {
    @Test(arguments: [1, 2, 3])
    func countsEqualARecountAfterEveryRun(seed: UInt64) throws {
        var state = seed &* 0x9E37_79B9_7F4A_7C15
        func next(_ n: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(n))
        }
        let pipeline = try temporaryFile("counts.yaml", contents: """
            name: counts
            timezone: UTC
            columns: {incident_id: id, occurred_at: occurred_at, category: category, lat: lat, lon: lon, updated_at: updated_at}
            boundaries:
              districts: \(repoPath("fixtures/boundaries/synthetic/grid-2x2.geojson"))
              district_code: code
              district_name: name
            geocode: {nearest_metres: 0}
            clean:
              timestamp_formats: [iso8601, "%Y-%m"]
              bbox: {lat_min: 53.7, lat_max: 53.9, lon_min: -1.7, lon_max: -1.4}
              earliest: 2016-01-01
              max_reject_ratio: 0.5
            aggregate: {tables: []}
            """)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let definition = try PipelineDefinition.load(path: pipeline)
            let s = quoteIdentifier(schema)
            for round in 0..<6 {
                var csv = "id,occurred_at,category,lat,lon,updated_at\n"
                for _ in 0..<(40 + next(40)) {
                    // Each round reaches a month no earlier round loaded, and revisits the others.
                    let day = 1 + next(28), month = 7 + next(2 + round)
                    let when = next(10) == 0 ? String(format: "2016-%02d", month) : String(format: "2016-%02d-%02dT%02d:00:00Z", month, day, next(24))
                    // Inside the grid, or inside the box but in no area (unassigned: no snapping).
                    let (lat, lon) = next(8) == 0 ? (53.75, -1.65) : (53.781 + Double(next(38)) / 1000, -1.599 + Double(next(98)) / 1000)
                    let updated = next(3) == 0 ? "" : String(format: "2016-09-%02dT%02d:00:00Z", 1 + next(28), next(24))
                    csv += "P-\(next(70)),\(when),\(["theft", "assault", "drugs"][next(3)]),\(lat),\(lon),\(updated)\n"
                }
                var roundPipeline = definition
                roundPipeline.inputs = [try temporaryFile("round-\(round).csv", contents: csv)]
                var runner = PipelineRunner(settings: try testSettings(schema: schema), pipeline: roundPipeline, logger: .init(label: "test"))
                runner.asOfDate = "2016-08-31"
                let summary = try runner.run()
                #expect(summary.accountingHolds)
                let daily = """
                    SELECT local_date, district_code, coalesce(category, 'all'), count(*)::int FROM \(s).incidents
                    WHERE district_code IS NOT NULL AND time_precision <> 'month'
                    GROUP BY GROUPING SETS ((local_date, district_code, category), (local_date, district_code))
                    """
                let monthly = """
                    SELECT month, district_code, coalesce(category, 'all'), count(*)::int, (count(*) FILTER (WHERE time_precision = 'month'))::int
                    FROM (SELECT date_trunc('month', local_date)::date AS month, * FROM \(s).incidents WHERE district_code IS NOT NULL) i
                    GROUP BY GROUPING SETS ((month, district_code, category), (month, district_code))
                    """
                for (table, recount) in [("district_daily", daily), ("district_monthly", monthly)] {
                    let stored = "SELECT * FROM \(s).\(table)"
                    let differ = try db.query("SELECT count(*) FROM ((\(stored) EXCEPT \(recount)) UNION ALL (\(recount) EXCEPT \(stored))) x").scalar
                    #expect(differ == "0", "round \(round): \(table) differs from a recount of incidents in \(differ ?? "?") rows")
                }
                #expect(try db.query("SELECT count(*) FROM \(s).district_daily").scalar != "0")
            }
            // The sequence exercised what it is meant to.
            #expect(try db.query("SELECT count(*) FROM \(s).incidents WHERE time_precision = 'month' AND district_code IS NOT NULL").scalar != "0")
            #expect(try db.query("SELECT count(*) FROM \(s).incidents WHERE district_code IS NULL").scalar != "0")
            #expect(try db.query("SELECT sum(rows_duplicate) FROM \(s).pipeline_runs").scalar != "0")
        }
    }
}

/// Duplicates within a run are ranked from the ids the client's filter flagged — listed by the
/// client while few (sent as an array literal), else found by the server — with the same result,
/// whatever characters the ids hold.
@Suite struct FlaggedDuplicateTests {
    @Test(arguments: [100_000, 1])
    func theLatestRecordOfEachIdWins(flaggedIDsLimit: Int) throws {
        let ids = ["plain", "quote\"d", "back\\slash", "com,ma", "{brace}", " spaced ", "NULL", "سرقة-7", "tab\there"]
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let counts = try db.withTransaction { tx -> [String: IncidentStore.FileCounts] in
                let store = try IncidentStore(db: tx, schema: schema, runID: UUID().uuidString.lowercased(), flaggedIDsLimit: flaggedIDsLimit)
                var batch: [PlacedIncident] = [], line = 0
                // Each id three times; the middle record has the latest updated_at and must win.
                for updated in [100, 300, 200] as [Int64] {
                    for id in ids {
                        line += 1
                        let incident = Incident(incidentID: id, occurredAt: 1_700_000_000, localDay: 19_675, category: "theft", lat: nil, lon: nil,
                                                areaName: nil, areaCode: nil, description: "u\(updated)", updatedAt: updated, sourceFile: "f.csv", sourceLine: line)
                        batch.append(PlacedIncident(incident: incident, placement: Placement(districtCode: "A1", geocodeMethod: .name)))
                    }
                }
                try store.stage(batch)
                return try store.finish()
            }
            #expect(counts["f.csv"]?.loaded == ids.count && counts["f.csv"]?.duplicates == 2 * ids.count)
            let kept = try db.query("SELECT incident_id, description FROM \(quoteIdentifier(schema)).incidents").rows
            #expect(Set(kept.map { $0[0]! }) == Set(ids))
            #expect(kept.allSatisfy { $0[1] == "u300" }, "\(kept)")
        }
    }

    @Test func arrayLiteralsRoundTrip() throws {
        let ids = ["plain", "quote\"d", "back\\slash", "com,ma", "{brace}", " spaced ", "NULL", "", "سرقة", "new\nline"]
        let db = try connectTestDatabase()
        let back = try db.query("SELECT unnest($1::text[])", [IncidentStore.arrayLiteral(ids)]).rows.map { $0[0] }
        #expect(back == ids.map { Optional($0) })
    }
}

/// The loader's counts of new months (`NewMonthCounts`) give the rows a recount would: every
/// (day, area, category) with its net count, `all` per (day, area), nothing netted to zero, by day
/// (days before 1970 first).
@Suite struct NewMonthCountsTests {
    @Test func rowsAreTheNetCountsByDay() async {
        // (day, area, category, taken back?) over days around 1970 and in this century.
        let op = zip(Gen.element(of: [-400, -1, 0, 1, 20_000, 20_001]).compactMap { $0 }, Gen.int(in: 0...3), Gen.int(in: 0...2), Gen.bool)
        await propertyCheck(count: 200, input: op.array(of: 0...200)) { ops in
            var counts = NewMonthCounts()
            var expected: [String: Int32] = [:]
            for (day, area, category, takeBack) in ops {
                let key = "\(day)|A\(area)|c\(category)"
                // Take back only what was counted: a loser was always staged (and counted) first.
                if takeBack && (expected[key] ?? 0) == 0 { continue }
                let n: Int32 = takeBack ? -1 : 1
                counts.touch(day: Int32(day))
                counts.add(day: Int32(day), district: "A\(area)", layerIndex: area % 2 == 0 ? area : nil, category: "c\(category)", count: n)
                expected[key, default: 0] += n
                expected["\(day)|A\(area)|all", default: 0] += n
            }
            var rows: [NewMonthCounts.Row] = []
            counts.forEachRow { rows.append($0) }
            #expect(Dictionary(rows.map { ("\($0.day)|\($0.district)|\($0.category)", $0.count) }, uniquingKeysWith: +) == expected.filter { $0.value != 0 })
            #expect(rows.map(\.day) == rows.map(\.day).sorted(), "rows are not by day")
            #expect(rows.allSatisfy { $0.count > 0 })
        }
    }

    @Test func monthRowsSumTheDaysAndTheMonthOnlyIncidents() async {
        // (day, area, category, known only to its month?, taken back?)
        let op = zip(Gen.int(in: -40...70), Gen.int(in: 0...2), Gen.int(in: 0...1), Gen.bool, Gen.int(in: 0...3))
        await propertyCheck(count: 200, input: op.array(of: 0...150)) { ops in
            var counts = NewMonthCounts()
            var expected: [String: (count: Int32, monthOnly: Int32)] = [:], net: [String: Int32] = [:]
            for (offset, area, category, isMonthOnly, takeBackDie) in ops {
                let dayOf = Int32(offset * 9)  // about nine months either side of 1970
                let month = NewMonthCounts.firstOfMonth(dayOf), day = isMonthOnly ? month : dayOf
                let entry = "\(day)|\(area)|\(category)|\(isMonthOnly)"
                let takeBack = takeBackDie == 0 && (net[entry] ?? 0) > 0
                let n: Int32 = takeBack ? -1 : 1
                net[entry, default: 0] += n
                counts.touch(day: day)
                counts.add(day: day, district: "A\(area)", category: "c\(category)", count: n, isMonthOnly: isMonthOnly)
                for key in ["\(month)|A\(area)|c\(category)", "\(month)|A\(area)|all"] {
                    expected[key, default: (0, 0)].count += n
                    if isMonthOnly { expected[key, default: (0, 0)].monthOnly += n }
                }
            }
            var rows: [String: [Int32]] = [:], months: [Int32] = []
            counts.forEachMonthRow { row in
                rows["\(row.month)|\(row.district)|\(row.category)"] = [row.count, row.monthOnly]
                months.append(row.month)
            }
            #expect(rows == expected.filter { $0.value.count != 0 }.mapValues { [$0.count, $0.monthOnly] })
            #expect(months == months.sorted())
            #expect(Set(months).isSubset(of: counts.months))
        }
    }
}
