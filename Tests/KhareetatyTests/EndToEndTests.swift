import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore
@testable import Readers

/// The nightly pipeline on the bundled fixture, into a scratch schema of the real database.
@Suite struct EndToEndTests {
    let fixture = repoPath("fixtures/incidents/kuwait-sample.csv")

    func runner(_ schema: String) throws -> PipelineRunner {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        return PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: Logger(label: "test"))
    }

    /// Table contents as one checksum (order-independent), ignoring columns that differ per run.
    func checksum(_ db: PostgresConnection, _ sql: String) throws -> String {
        try db.query("SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (\(sql)) r").scalar ?? ""
    }

    @Test func nightlyRunAccountsForEveryRowAndIsIdempotent() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let s = quoteIdentifier(schema)

            // Independent expectations from the fixture itself (it has no quoted newlines).
            let lines = try String(contentsOfFile: fixture, encoding: .utf8).split(separator: "\n").dropFirst()
            let ids = lines.map { String($0.split(separator: ",", omittingEmptySubsequences: false)[0]) }.filter { !$0.isEmpty }
            let repeatedIDs = ids.count - Set(ids).count

            let first = try runner(schema).run()
            #expect(first.accountingHolds)
            #expect(first.rowsRead == lines.count)
            #expect(first.rowsDuplicate == repeatedIDs)
            #expect(first.rowsRejected > 0)
            #expect(first.rejectsByReason.values.reduce(0, +) == first.rowsRejected)
            #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == String(first.rowsLoaded))
            #expect(try db.query("SELECT count(*) FROM \(s).incident_rejects WHERE run_id = $1", [first.runID]).scalar == String(first.rowsRejected))
            #expect(try db.query("SELECT count(*) FROM \(s).incidents WHERE district_code IS NULL").scalar == String(first.rowsUnassigned))

            // The re-sent incident kept its latest version (by updated_at).
            let resent = try db.query("""
                SELECT incident_id, description FROM \(s).incidents WHERE incident_id IN
                (SELECT incident_id FROM \(s).incidents WHERE updated_at IS NOT NULL)
                """).rows
            #expect(resent.count == repeatedIDs)
            #expect(resent.allSatisfy { $0[1]?.contains("re-sent") == true })

            // Daily counts: the 'all' rows add up to the assigned incidents, per day and district.
            let mismatch = try db.query("""
                SELECT count(*) FROM (
                  SELECT local_date, district_code, count(*) AS n FROM \(s).incidents WHERE district_code IS NOT NULL GROUP BY 1, 2
                ) i FULL JOIN (SELECT local_date, district_code, incident_count AS n FROM \(s).district_daily WHERE category = 'all') d
                USING (local_date, district_code) WHERE i.n IS DISTINCT FROM d.n
                """).scalar
            #expect(mismatch == "0")
            #expect(try db.query("SELECT count(*) FROM \(s).districts").scalar == "137")

            let ledger = try db.query("SELECT status, rows_read, rows_loaded FROM \(s).pipeline_runs WHERE run_id = $1", [first.runID]).rows
            #expect(ledger == [["succeeded", String(first.rowsRead), String(first.rowsLoaded)]])

            // Same input again: identical tables.
            let incidentsSQL = "SELECT incident_id, occurred_at, local_date, category, lat, lon, district_code, governorate_code, geocode_method FROM \(s).incidents"
            let dailySQL = "SELECT * FROM \(s).district_daily"
            let before = (try checksum(db, incidentsSQL), try checksum(db, dailySQL))
            // Without --force the same file is skipped, saying which run loaded it.
            let skipped = try runner(schema).run()
            #expect(skipped.rowsRead == 0 && skipped.inputs.first?.skipped?.contains(first.runID) == true)
            var forced = try runner(schema)
            forced.force = true
            let second = try forced.run()
            #expect(second.rowsLoaded == first.rowsLoaded)
            #expect(try checksum(db, incidentsSQL) == before.0)
            #expect(try checksum(db, dailySQL) == before.1)
        }
    }

    /// Every stored district assignment agrees with PostGIS on the stored district geometry.
    @Test func storedAssignmentsAgreeWithPostGIS() throws {
        try withScratchSchema { db, schema in
            try db.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            try Migrator(connection: db, schema: schema).migrate()
            _ = try runner(schema).run()
            let s = quoteIdentifier(schema)
            let rows = try db.query("""
                SELECT count(*) FILTER (WHERE covering IS DISTINCT FROM district_code), count(*) FILTER (WHERE district_code IS NOT NULL)
                FROM (
                  SELECT i.district_code, (SELECT min(d.code) FROM \(s).districts d
                      WHERE ST_Covers(ST_GeomFromGeoJSON(d.geometry_geojson), ST_SetSRID(ST_MakePoint(i.lon, i.lat), 4326))) AS covering
                  FROM \(s).incidents i WHERE i.lat IS NOT NULL
                ) x
                """).rows
            #expect(rows.first?[0] == "0")
            #expect((Int(rows.first?[1] ?? "0") ?? 0) > 300)
        }
    }

    @Test func dryRunCommitsNothing() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            var dry = try runner(schema)
            dry.dryRun = true
            let summary = try dry.run()
            #expect(summary.rowsLoaded > 0)
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == "0")
            #expect(try db.query("SELECT count(*) FROM \(s).incident_rejects").scalar == "0")
        }
    }

    @Test func aFailingInputRollsBackTheWholeRun() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let broken = try temporaryFile("broken.csv", contents: "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\nX1,2026-11-01T10:00:00Z,theft,29.3,48.0,,,\nX2,\"2026-11-01,theft\n")
            var failing = try runner(schema)
            failing.pipeline.inputs = [fixture, broken]
            #expect(throws: InputError.self) { try failing.run() }
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == "0")
            #expect(try db.query("SELECT status, error IS NOT NULL FROM \(s).pipeline_runs").rows == [["failed", "t"]])
        }
    }

    @Test func refusesToRunAgainstAnUnmigratedSchema() throws {
        try withScratchSchema { _, schema in
            #expect(throws: MigrationError.self) { try runner(schema).run() }
        }
    }
}
