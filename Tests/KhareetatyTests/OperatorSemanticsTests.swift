import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// What an operator relies on: a dry run changes nothing anywhere, and a failed run still prints
/// its summary (status, error, exit code, run id) for the scheduler's logs.
@Suite struct OperatorSemanticsTests {
    /// Every table of the schema, as one fingerprint per table (row count and an md5 of its rows).
    func fingerprint(_ db: PostgresConnection, _ schema: String) throws -> [String: String] {
        let tables = try db.query("""
            SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind IN ('r', 'p') ORDER BY 1
            """, [schema]).rows.compactMap { $0[0] }
        var result: [String: String] = [:]
        for table in tables {
            let t = quoteIdentifier(schema) + "." + quoteIdentifier(table)
            result[table] = try db.query("SELECT count(*) || ':' || coalesce(md5(string_agg(x::text, '|' ORDER BY x::text)), '') FROM \(t) x").scalar
        }
        return result
    }

    @Test func aDryRunLeavesEveryTableAsItWasWhateverHappens() throws {
        let header = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n"
        let good = try temporaryFile("more.csv", contents: header + (1...50).map { "D\($0),2026-11-21T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,\n" }.joined())
        let mostlyBad = try temporaryFile("bad.csv", contents: header + (1...50).map { "B\($0),not a date,theft,29.33,48.07,Salmiya,d,\n" }.joined())
        let truncated = try temporaryFile("truncated.csv", contents: header + "X1,\"2026-11-01,theft\n")
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            let pipeline = try nightlyPipeline(tables: "[trends, hotspots]")
            let loaded = try runCLI(["run", "--pipeline", pipeline, "--date", "2026-11-24"], environment: env, inheritDatabase: true)
            #expect(loaded.status == 0, "\(loaded.stderr)")
            // A stale running row of a dead run: a real run would mark it; a dry run must not.
            try db.query("INSERT INTO \(quoteIdentifier(schema)).pipeline_runs (run_id, kind, status, pipeline, host, version) VALUES (gen_random_uuid(), 'nightly', 'running', 'p', 'h', 'v')")
            let before = try fingerprint(db, schema)
            #expect(before.count >= 10)

            for (input, status) in [(good, Int32(0)), (mostlyBad, 65), (truncated, 65)] {
                let dry = try runCLI(["run", "--dry-run", "--force", "--pipeline", pipeline, "--date", "2026-11-24", input], environment: env, inheritDatabase: true)
                #expect(dry.status == status, "\(input): \(dry.stderr)")
                #expect(try fingerprint(db, schema) == before, "a dry run of \(input) changed a table")
            }
        }
    }

    /// `--date latest`: the run and the report are as of the last day the data reaches, which is
    /// what a backfilled or demo export needs ("yesterday" may hold nothing).
    @Test func dateLatestReportsOnTheLastDayWithIncidents() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            let run = try runCLI(["run", "--summary", "json", "--date", "latest", "--pipeline", try nightlyPipeline(tables: "[trends]")], environment: env, inheritDatabase: true)
            #expect(run.status == 0, "\(run.stderr)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
            let last = try #require(try db.query("SELECT max(local_date)::text FROM \(quoteIdentifier(schema)).incidents").scalar)
            #expect(summary["as_of_date"] as? String == last)
            #expect(try db.query("SELECT count(*) > 0 FROM \(quoteIdentifier(schema)).district_trends WHERE as_of_date = $1::date", [last]).scalar == "t")
            let out = try temporaryFile("r.html", contents: "")
            let report = try runCLI(["report", "--date", "latest", "--out", out], environment: env, inheritDatabase: true)
            #expect(report.status == 0, "\(report.stderr)")
            #expect(try String(contentsOfFile: out, encoding: .utf8).contains("As of \(last)"))
            #expect(try runCLI(["run", "--date", "soon"], environment: env, inheritDatabase: true).status == 2)
        }
    }

    @Test func aFailedRunPrintsItsSummaryAsJSON() throws {
        let noHeader = try temporaryFile("noheader.csv", contents: "KW-1,2026-11-20T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,\n")
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let result = try runCLI(["run", "--summary", "json", "--pipeline", try nightlyPipeline(tables: "[]"), noHeader],
                                    environment: ["KHAREETATY_DATABASE_SCHEMA": schema], inheritDatabase: true)
            #expect(result.status == 65)
            let json = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], "\(result.stdout)")
            #expect(json["status"] as? String == "failed")
            #expect(json["exit_code"] as? Int == 65)
            #expect((json["error"] as? String)?.contains("has no column") == true)
            // The last log line, the fatal one, is JSON like every other (stderr is not a terminal here).
            for line in result.stderr.split(separator: "\n") {
                #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
            }
            let last = try #require(result.stderr.split(separator: "\n").last.flatMap { try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] })
            #expect(last["level"] as? String == "critical" && last["exit_code"] as? Int == 65 && (last["msg"] as? String)?.contains("has no column") == true)
            let ledger = try db.query("SELECT run_id, status FROM \(quoteIdentifier(schema)).pipeline_runs").rows
            #expect(ledger.count == 1 && ledger[0][0] == json["run_id"] as? String && ledger[0][1] == "failed")

            // Too many rejects: the summary carries the accounting it got through.
            let bad = try temporaryFile("bad.csv", contents: "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n"
                                        + (1...20).map { "B\($0),never,theft,29.33,48.07,Salmiya,d,\n" }.joined())
            let rejected = try runCLI(["run", "--summary", "json", "--pipeline", try nightlyPipeline(tables: "[]"), bad],
                                      environment: ["KHAREETATY_DATABASE_SCHEMA": schema], inheritDatabase: true)
            #expect(rejected.status == 65)
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(rejected.stdout.utf8)) as? [String: Any])
            #expect(summary["rows_read"] as? Int == 20 && summary["rows_rejected"] as? Int == 20 && summary["status"] as? String == "failed")
        }
    }
}

/// SIGTERM and SIGINT stop a run cleanly: rolled back, the ledger says `cancelled`, a log line
/// says so, the metrics record the exit code, and the process exits 143 / 130.
@Suite(.serialized) struct SignalTests {
    @Test func sigtermDuringTheRunRollsBackAndExits143() throws {
        let metrics = try temporaryFile("metrics.prom", contents: "")
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let (process, log) = try startCLI(["run", "--pipeline", try nightlyPipeline(tables: "[]")], environment: [
                "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_METRICS_TEXTFILE": metrics,
                "KHAREETATY_TEST_FAULT": "before_finish", "KHAREETATY_TEST_FAULT_PAUSE": "600",
            ])
            waitFor("fault point before_finish reached", in: log, while: process)
            let started = Date()
            kill(process.processIdentifier, SIGTERM)
            process.waitUntilExit()
            let stderr = try String(contentsOfFile: log, encoding: .utf8)
            #expect(process.terminationStatus == 143, "\(stderr)")
            #expect(Date().timeIntervalSince(started) < 10)
            #expect(stderr.contains("SIGTERM received") && stderr.contains("cancelled"), "\(stderr)")
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT status FROM \(s).pipeline_runs").scalar == "cancelled")
            #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == "0")
            let prom = try String(contentsOfFile: metrics, encoding: .utf8)
            #expect(prom.contains("khareetaty_last_run_exit_code{pipeline=") && prom.contains("} 143"), "\(prom)")
        }
    }

    /// The signal arrives while a statement waits on a lock: the cancel request stops it at once.
    @Test func sigintCancelsAStatementThatIsWaiting() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let blocker = try connectTestDatabase()
            try blocker.execute("BEGIN; LOCK TABLE \(quoteIdentifier(schema)).districts IN ACCESS EXCLUSIVE MODE")
            let (process, log) = try startCLI(["run", "--pipeline", try nightlyPipeline(tables: "[]")], environment: [
                "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema,
            ])
            var waiting = false
            for _ in 0..<400 where !waiting && process.isRunning {
                waiting = try db.query("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'khareetaty' AND wait_event_type = 'Lock'").scalar != "0"
                if !waiting { Thread.sleep(forTimeInterval: 0.05) }
            }
            #expect(waiting, "the run never waited on the lock")
            let started = Date()
            kill(process.processIdentifier, SIGINT)
            process.waitUntilExit()
            #expect(Date().timeIntervalSince(started) < 10)
            try blocker.execute("ROLLBACK")
            let stderr = try String(contentsOfFile: log, encoding: .utf8)
            #expect(process.terminationStatus == 130, "\(stderr)")
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT status FROM \(s).pipeline_runs").scalar == "cancelled")
            #expect(try db.query("SELECT count(*) FROM \(s).districts").scalar == "0")
        }
    }
}
