import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// One run per schema at a time, and stale `running` rows after a crash.
@Suite struct RunLockTests {
    func runner(_ schema: String) throws -> PipelineRunner {
        let pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
        var runner = PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: Logger(label: "test"))
        runner.force = true
        return runner
    }

    @Test func aSecondRunExits75NamingTheHolder() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            // Another session holds the lock and has its ledger row, as a live run would.
            let holder = try connectTestDatabase()
            #expect(try holder.query("SELECT pg_try_advisory_lock(hashtext($1))", [RunLock.key(schema)]).scalar == "t")
            let holderRun = UUID().uuidString.lowercased()
            try holder.query("INSERT INTO \(quoteIdentifier(schema)).pipeline_runs (run_id, kind, status, pipeline, host, version) VALUES ($1, 'nightly', 'running', 'p', 'h', 'v')", [holderRun])
            do {
                _ = try runner(schema).run()
                Issue.record("ran while another run held the schema")
            } catch let error as RunLocked {
                #expect(error.exitCode == .temporaryFailure)
                #expect(error.holder == holderRun)
            }
            #expect(try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents").scalar == "0")

            // With --wait, the run proceeds once the holder lets go: another process holds the lock
            // for a moment and exits.
            _ = try holder.query("SELECT pg_advisory_unlock_all()")
            let psql = Process()
            psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
            psql.arguments = [try testDatabaseURL(), "-q", "-c", "SELECT pg_advisory_lock(hashtext('\(RunLock.key(schema))'))", "-c", "SELECT pg_sleep(2)"]
            psql.standardOutput = FileHandle.nullDevice
            try psql.run()
            for _ in 0..<100 where try db.query("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted").scalar == "0" {
                Thread.sleep(forTimeInterval: 0.05)
            }
            var waiting = try runner(schema)
            waiting.waitSeconds = 20
            let summary = try waiting.run()
            psql.waitUntilExit()
            #expect(summary.rowsLoaded > 0)
            // The holder never finished: its row is marked failed as stale by the run that got the lock.
            let stale = try db.query("SELECT status, error FROM \(quoteIdentifier(schema)).pipeline_runs WHERE run_id = $1", [holderRun]).rows
            #expect(stale.first?[0] == "failed")
            #expect(stale.first?[1]?.contains("stale") == true)
        }
    }

    /// A backfill worker holds no schema lock between months: a nightly run in between must not
    /// call it dead. Once its connection is gone, the next run does.
    @Test func aLiveWorkerIsNotMarkedStaleAndADeadOneIs() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let worker = UUID().uuidString.lowercased()
            var workerConnection: PostgresConnection? = try connectTestDatabase()
            try RunLedger(schema: schema).start(workerConnection!, runID: worker, kind: "worker", pipeline: "backfill worker w1", pipelineFile: "p.yaml")
            func status() throws -> String? {
                try db.query("SELECT status FROM \(quoteIdentifier(schema)).pipeline_runs WHERE run_id = $1", [worker]).scalar
            }
            var nightly = try runner(schema)
            nightly.pipeline.aggregate.tables = []
            _ = try nightly.run()
            #expect(try status() == "running")

            workerConnection = nil  // the worker's process dies
            _ = workerConnection
            // The server frees the closed connection's locks asynchronously: wait until the alive lock is free.
            for _ in 0..<100 {
                if try db.query("SELECT pg_try_advisory_lock(hashtext('khareetaty.alive'), hashtext($1))", [worker]).scalar == "t" {
                    _ = try db.query("SELECT pg_advisory_unlock(hashtext('khareetaty.alive'), hashtext($1))", [worker])
                    break
                }
                Thread.sleep(forTimeInterval: 0.05)
            }
            _ = try nightly.run()
            #expect(try status() == "failed")
        }
    }

    @Test func cliExits75WhenLocked() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let holder = try connectTestDatabase()
            #expect(try holder.query("SELECT pg_try_advisory_lock(hashtext($1))", [RunLock.key(schema)]).scalar == "t")
            let result = try runCLI(["run"], environment: ["KHAREETATY_DATABASE_SCHEMA": schema], inheritDatabase: true)
            #expect(result.status == 75)
            #expect(result.stderr.contains("another run holds schema \(schema)"))
        }
    }
}

/// `run` without files takes every new file from the inbox; files move only after the commit.
@Suite struct InboxTests {
    @Test func inboxFilesAreArchivedAfterCommitAndUnreadableOnesQuarantined() throws {
        let root = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent()
        let inbox = root.appendingPathComponent("inbox"), archive = root.appendingPathComponent("archive"), quarantine = root.appendingPathComponent("quarantine")
        for dir in [inbox, archive, quarantine] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let sample = repoPath("fixtures/incidents/kuwait-sample.csv")
        try FileManager.default.copyItem(atPath: sample, toPath: inbox.appendingPathComponent("a-night.csv").path)
        try Data("incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\nZ1,\"2026-11-01,theft\n".utf8)
            .write(to: inbox.appendingPathComponent("b-truncated.csv"))
        try FileManager.default.createSymbolicLink(atPath: inbox.appendingPathComponent("c-link.csv").path, withDestinationPath: sample)

        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_INBOX_DIR": inbox.path, "KHAREETATY_INBOX_SETTLE_SECONDS": "0",
                       "KHAREETATY_INBOX_ARCHIVE_DIR": archive.path, "KHAREETATY_INBOX_QUARANTINE_DIR": quarantine.path]
            func names(_ dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }

            let failed = try runCLI(["run"], environment: env, inheritDatabase: true)
            #expect(failed.status == 65)
            #expect(try names(quarantine) == ["b-truncated.csv"])
            #expect(try names(inbox) == ["a-night.csv", "c-link.csv"])  // nothing moved before a commit; the link is refused, not read
            #expect(try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents").scalar == "0")

            let loaded = try runCLI(["run"], environment: env, inheritDatabase: true)
            #expect(loaded.status == 0, "\(loaded.stderr)")
            #expect(try names(archive) == ["a-night.csv"])
            #expect(try names(inbox) == ["c-link.csv"])

            // The same export delivered again: skipped as already loaded, and archived beside the first.
            try FileManager.default.copyItem(atPath: sample, toPath: inbox.appendingPathComponent("a-night.csv").path)
            let again = try runCLI(["run"], environment: env, inheritDatabase: true)
            #expect(again.status == 0)
            #expect(again.stdout.contains("skipped, already loaded by run"))
            #expect(try names(archive) == ["a-night.csv", "a-night.csv.1"])
        }
    }
}
