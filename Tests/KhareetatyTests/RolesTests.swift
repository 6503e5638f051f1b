import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// Migration 13's roles, proven by connecting as each: the loader loads (both month paths) and
/// backfills without any DDL right; the reader reads the outputs and nothing else.
@Suite struct RolesTests {
    func url(as user: String) throws -> String {
        let base = try testDatabaseURL()
        guard let range = base.range(of: #"user=[^&]*"#, options: .regularExpression) else {
            throw TestSetupError(description: "the test database URL names no user: \(base)")
        }
        return base.replacingCharacters(in: range, with: "user=\(user)")
    }

    func expectDenied(_ db: PostgresConnection, _ sql: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            try db.execute(sql)
            Issue.record("allowed: \(sql)", sourceLocation: sourceLocation)
        } catch let error as PostgresError {
            #expect(error.sqlState == "42501", "\(sql): \(error)", sourceLocation: sourceLocation)
        } catch {
            Issue.record("\(error)", sourceLocation: sourceLocation)
        }
    }

    @Test func loaderLoadsWithoutDDLAndReaderReadsOnlyOutputs() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let (loader, reader) = ("\(schema)_l", "\(schema)_r")
            try db.execute("""
                CREATE ROLE \(quoteIdentifier(loader)) LOGIN IN ROLE \(quoteIdentifier(schema + "_loader"));
                CREATE ROLE \(quoteIdentifier(reader)) LOGIN IN ROLE \(quoteIdentifier(schema + "_reader"));
                """)
            defer { _ = try? db.execute("DROP OWNED BY \(quoteIdentifier(loader)), \(quoteIdentifier(reader)); DROP ROLE \(quoteIdentifier(loader)), \(quoteIdentifier(reader))") }
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = $1", [schema]).scalar == schema + "_owner")

            // The loader runs the nightly pipeline (every month new: staged, attached), then the same
            // inputs again with --force (every month exists: INSERT), then a backfill.
            var settings = try testSettings(schema: schema)
            settings.databaseURL = try url(as: loader)
            let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
            var runner = PipelineRunner(settings: settings, pipeline: pipeline, logger: Logger(label: "test"))
            runner.asOfDate = "2026-11-24"
            let first = try runner.run()
            runner.force = true
            let second = try runner.run()
            #expect(first.rowsLoaded > 300 && second.accountingHolds && second.rowsLoaded == first.rowsLoaded)
            _ = try Backfill(from: "2026-10-01", to: "2026-11-24", settings: settings, pipeline: pipeline, logger: Logger(label: "test")).run()
            let asLoader = try PostgresConnection(conninfo: settings.databaseURL)
            #expect(try asLoader.query("SELECT current_user").scalar == loader)
            #expect(try asLoader.query("SELECT count(*) FROM \(s).incidents").scalar == String(first.rowsLoaded))
            let checks = Checks(settings: settings, configFile: nil).run()
            #expect(checks.first { $0.name == "privileges" }?.ok == true, "\(checks)")
            expectDenied(asLoader, "CREATE TABLE \(s).sneaky (x int)")
            expectDenied(asLoader, "DROP TABLE \(s).district_daily")
            expectDenied(asLoader, "ALTER TABLE \(s).incidents ADD COLUMN sneaky int")
            expectDenied(asLoader, "TRUNCATE \(s).incidents")
            expectDenied(asLoader, "CREATE TABLE \(s).incidents_2030_01 PARTITION OF \(s).incidents FOR VALUES FROM ('2030-01-01') TO ('2030-02-01')")
            // The definer functions do only what they are for.
            do {
                try asLoader.query("SELECT \(s).stage_month('2026-11-15')")
                Issue.record("stage_month accepted a day that is not the first of a month")
            } catch let error as PostgresError {
                #expect(error.sqlState == "22023")
            }

            // The reader: outputs yes, raw rejects and incident narratives no, writes no.
            let asReader = try PostgresConnection(conninfo: try url(as: reader))
            for table in ["district_daily", "district_trends", "districts", "hotspot_cells", "emerging_hotspots", "pipeline_runs"] {
                #expect(try asReader.query("SELECT count(*) >= 0 FROM \(s).\(table)").scalar == "t")
            }
            #expect(try asReader.query("SELECT count(*) FROM \(s).incidents WHERE district_code IS NOT NULL").scalar != "0")
            expectDenied(asReader, "SELECT description FROM \(s).incidents")
            expectDenied(asReader, "SELECT * FROM \(s).incident_rejects")
            expectDenied(asReader, "DELETE FROM \(s).district_daily")
            expectDenied(asReader, "SELECT \(s).stage_begin()")
            expectDenied(asReader, "CREATE TABLE \(s).sneaky (x int)")
        }
    }
}
