import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// `kill -9` of a real `khareetaty run` at five points of a load: nothing partial is ever visible,
/// the ledger shows the dead run as failed once the next run starts, and the next run yields the
/// same tables as a run that was never interrupted.
@Suite(.serialized) struct CrashTests {
    static let points = ["after_ledger_start", "while_reading", "mid_copy", "before_finish", "before_commit"]

    /// A 60,000-row input (the bench generator, fixed seed), loaded in batches of 1,000.
    func input() throws -> String {
        let path = try temporaryFile("crash-input.csv", contents: "")
        _ = try shell("/usr/bin/python3", [repoPath("bench/generate_incidents.py"), "60000", path, "--seed", "7"])
        return path
    }

    func checksum(_ db: PostgresConnection, _ schema: String) throws -> [String] {
        let s = quoteIdentifier(schema)
        return try [
            "SELECT incident_id, occurred_at, local_date, category, lat, lon, district_code, geocode_method FROM \(s).incidents",
            "SELECT * FROM \(s).district_daily",
        ].map { sql in
            try db.query("SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (\(sql)) r").scalar ?? ""
        }
    }

    /// Starts the run with the fault armed, waits for it to reach the point, and kills it.
    func runAndKill(at point: String, input: String, schema: String) throws {
        let stderrPath = try temporaryFile("stderr.txt", contents: "")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: repoPath(".build/debug/khareetaty"))
        process.arguments = ["run", "--force", input]
        process.currentDirectoryURL = repoRoot
        process.environment = ["PATH": "/usr/bin:/bin", "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema,
                               "KHAREETATY_BATCH_SIZE": "1000", "KHAREETATY_TEST_FAULT": point]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        let deadline = Date().addingTimeInterval(120)
        while Date() < deadline, process.isRunning {
            if (try? String(contentsOfFile: stderrPath, encoding: .utf8))?.contains("fault point \(point) reached") == true { break }
            Thread.sleep(forTimeInterval: 0.05)
        }
        #expect(process.isRunning, "the run ended before reaching \(point): \((try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "")")
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        #expect(process.terminationReason == .uncaughtSignal)
    }

    @Test func killedRunsLeaveNothingPartialAndTheNextRunRecovers() throws {
        let input = try input()
        try withScratchSchema { db, reference in
            try Migrator(connection: db, schema: reference).migrate()
            let clean = try runCLI(["run", input], environment: ["KHAREETATY_DATABASE_SCHEMA": reference, "KHAREETATY_BATCH_SIZE": "1000"], inheritDatabase: true)
            #expect(clean.status == 0, "\(clean.stderr)")
            let expected = try checksum(db, reference)

            try withScratchSchema { db, schema in
                try Migrator(connection: db, schema: schema).migrate()
                let s = quoteIdentifier(schema)
                for point in Self.points {
                    try runAndKill(at: point, input: input, schema: schema)
                    // Nothing of the killed run is visible; its ledger row still says running.
                    #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == "0", "partial data after a kill at \(point)")
                    #expect(try db.query("SELECT count(*) FROM \(s).district_daily").scalar == "0")
                    #expect(try db.query("SELECT count(*) FROM \(s).incident_rejects").scalar == "0")
                    #expect(try db.query("SELECT count(*) FROM \(s).pipeline_runs WHERE status = 'running'").scalar == "1", "no evidence of the run killed at \(point)")
                }
                let recovered = try runCLI(["run", input], environment: ["KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_BATCH_SIZE": "1000"], inheritDatabase: true)
                #expect(recovered.status == 0, "\(recovered.stderr)")
                let ledger = try db.query("SELECT status, count(*) FROM \(s).pipeline_runs GROUP BY 1 ORDER BY 1").rows
                #expect(ledger == [["failed", String(Self.points.count)], ["succeeded", "1"]])
                #expect(try db.query("SELECT count(*) FROM \(s).pipeline_runs WHERE status = 'failed' AND error LIKE 'stale:%'").scalar == String(Self.points.count))
                #expect(try checksum(db, schema) == expected)
            }
        }
    }
}

@Suite struct BackfillTests {
    func daily(_ db: PostgresConnection, _ schema: String) throws -> String {
        try db.query("SELECT md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM \(quoteIdentifier(schema)).district_daily r").scalar ?? ""
    }

    @Test func rebuildsDailyCountsAndResumesAfterAKill() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            // The messy fixture spans 2023-11 and 2026-11: a backfill over both has many monthly chunks.
            #expect(try runCLI(["run", repoPath("fixtures/incidents/messy/kuwait-messy.csv"), "--pipeline", repoPath("fixtures/incidents/messy/pipeline.yaml")],
                               environment: env, inheritDatabase: true).status == 0)
            let expected = try daily(db, schema)
            try db.execute("DELETE FROM \(quoteIdentifier(schema)).district_daily")  // derived data lost
            #expect(try daily(db, schema) != expected)

            // Killed after its first chunk: the next backfill with the same arguments resumes.
            let stderrPath = try temporaryFile("bf.txt", contents: "")
            let process = Process()
            process.executableURL = URL(fileURLWithPath: repoPath(".build/debug/khareetaty"))
            // The subject is resuming, not the hot spots: a pipeline with trends only keeps 37 months quick.
            let trendsOnly = try nightlyPipeline(tables: "[trends]")
            process.arguments = ["backfill", "--from", "2023-11-01", "--to", "2026-11-30", "--pipeline", trendsOnly]
            process.environment = ["PATH": "/usr/bin:/bin", "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema,
                                   "KHAREETATY_TEST_FAULT": "backfill_after_chunk"]
            process.currentDirectoryURL = repoRoot
            process.standardOutput = FileHandle.nullDevice
            process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
            try process.run()
            while process.isRunning, (try? String(contentsOfFile: stderrPath, encoding: .utf8))?.contains("fault point") != true { Thread.sleep(forTimeInterval: 0.05) }
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()

            let resumed = try runCLI(["backfill", "--from", "2023-11-01", "--to", "2026-11-30", "--pipeline", trendsOnly], environment: env, inheritDatabase: true)
            #expect(resumed.status == 0, "\(resumed.stderr)")
            #expect(resumed.stdout.contains("in 37 chunks (1 already done, 0 redone as stale)"), "\(resumed.stdout)")
            #expect(try daily(db, schema) == expected)
        }
    }

    @Test func badRangesAreUsageErrors() throws {
        #expect(try runCLI(["backfill", "--from", "2026-11-30", "--to", "2026-11-01"]).status == 2)
        #expect(try runCLI(["backfill", "--from", "yesterday", "--to", "2026-11-01"]).status == 2)
    }
}

@Suite struct AsOfDateTests {
    @Test func defaultsToYesterdayInThePipelineZone() throws {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        var runner = PipelineRunner(settings: Settings(), pipeline: pipeline, logger: .init(label: "t"))
        // 2026-11-24T22:30Z is already the 25th in Kuwait (UTC+3): yesterday there is the 24th.
        let now = ISO8601DateFormatter().date(from: "2026-11-24T22:30:00Z")!
        #expect(runner.effectiveAsOfDate(now: now) == "2026-11-24")
        runner.asOfDate = "2026-10-31"
        #expect(runner.effectiveAsOfDate(now: now) == "2026-10-31")
    }

    @Test func recordedOnTheLedgerAndValidated() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            #expect(try runCLI(["run", "--date", "2026-11-20"], environment: env, inheritDatabase: true).status == 0)
            #expect(try db.query("SELECT as_of_date::text FROM \(quoteIdentifier(schema)).pipeline_runs").scalar == "2026-11-20")
            #expect(try runCLI(["run", "--date", "20/11/2026"], environment: env, inheritDatabase: true).status == 2)
            // A backfill with a corrected export loads it (as a backfill run) before recomputing.
            let backfill = try runCLI(["backfill", "--from", "2026-11-01", "--to", "2026-11-30", repoPath("fixtures/incidents/kuwait-sample.csv")],
                                      environment: env, inheritDatabase: true)
            #expect(backfill.status == 0, "\(backfill.stderr)")
            #expect(try db.query("SELECT string_agg(kind || ':' || status, ',' ORDER BY started_at) FROM \(quoteIdentifier(schema)).pipeline_runs").scalar
                    == "run:succeeded,backfill:succeeded,backfill:succeeded")
        }
    }
}
