import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// Backfill workers (`backfill --enqueue`, `backfill --worker`): two at once over a year of data
/// give the same tables as one backfill process, and the chunk of a worker killed mid-chunk is
/// done by another.
@Suite(.serialized) struct BackfillWorkerTests {
    // The generator's year: 13 monthly chunks. The subject is the queue, not the hot spots: trends only.
    static let pipeline = try! nightlyPipeline(tables: "[trends]")
    let range = ["--from", "2024-11-25", "--to", "2025-11-24", "--pipeline", Self.pipeline]

    func checksum(_ db: PostgresConnection, _ schema: String) throws -> [String] {
        let s = quoteIdentifier(schema)
        return try ["SELECT * FROM \(s).district_daily", "SELECT * FROM \(s).district_trends"].map { sql in
            try db.query("SELECT count(*) || ':' || md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) FROM (\(sql)) r").scalar ?? ""
        }
    }

    func worker(schema: String, fault: String? = nil) throws -> (process: Process, stderr: String) {
        let stderrPath = try temporaryFile("worker-\(UUID().uuidString.prefix(6)).txt", contents: "")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: repoPath(".build/debug/khareetaty"))
        process.arguments = ["backfill", "--worker", "--pipeline", Self.pipeline]
        process.currentDirectoryURL = repoRoot
        var env = ["PATH": "/usr/bin:/bin", "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema]
        if let fault { env["KHAREETATY_TEST_FAULT"] = fault }
        process.environment = env
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
        try process.run()
        return (process, stderrPath)
    }

    @Test func twoWorkersEqualOneProcessAndADeadWorkersChunkIsRedone() throws {
        let input = try temporaryFile("worker-input.csv", contents: "")
        _ = try shell("/usr/bin/python3", [repoPath("bench/generate_incidents.py"), "20000", input, "--seed", "11"])
        try withScratchSchema { db, reference in
            try Migrator(connection: db, schema: reference).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": reference]
            #expect(try runCLI(["run", "--date", "2025-11-24", input], environment: env, inheritDatabase: true).status == 0)
            let single = try runCLI(["backfill"] + range, environment: env, inheritDatabase: true)
            #expect(single.status == 0, "\(single.stderr)")
            let expected = try checksum(db, reference)
            #expect(expected[1].hasPrefix("0:") == false)

            try withScratchSchema { db, schema in
                try Migrator(connection: db, schema: schema).migrate()
                let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
                #expect(try runCLI(["run", "--date", "2025-11-24", input], environment: env, inheritDatabase: true).status == 0)
                let queued = try runCLI(["backfill", "--enqueue"] + range, environment: env, inheritDatabase: true)
                #expect(queued.status == 0 && queued.stdout.contains("13 chunks open"), "\(queued.stdout)\(queued.stderr)")

                // A worker killed while it holds a chunk (its transaction open, the row locked).
                let dying = try worker(schema: schema, fault: "worker_mid_chunk")
                let deadline = Date().addingTimeInterval(60)
                while Date() < deadline, dying.process.isRunning,
                      (try? String(contentsOfFile: dying.stderr, encoding: .utf8))?.contains("fault point worker_mid_chunk reached") != true {
                    Thread.sleep(forTimeInterval: 0.05)
                }
                #expect(dying.process.isRunning)
                kill(dying.process.processIdentifier, SIGKILL)
                dying.process.waitUntilExit()

                // Two workers at once finish the queue, the dead worker's chunk included.
                let workers = try [worker(schema: schema), worker(schema: schema)]
                for w in workers {
                    w.process.waitUntilExit()
                    #expect(w.process.terminationStatus == 0, "\((try? String(contentsOfFile: w.stderr, encoding: .utf8)) ?? "")")
                }
                let s = quoteIdentifier(schema)
                #expect(try db.query("SELECT count(*) FROM \(s).backfill_chunks WHERE status = 'open'").scalar == "0")
                #expect(try db.query("SELECT count(*) FROM \(s).backfill_chunks WHERE status = 'done'").scalar == "13")
                let byWorker = try db.query("SELECT run_id, count(*) FROM \(s).backfill_chunks GROUP BY 1").rows
                #expect(byWorker.count <= 2 && byWorker.reduce(0) { $0 + Int($1[1]!)! } == 13)
                // The dead worker's ledger row stays 'running' until the next exclusive run marks it stale;
                // the two live ones succeeded.
                #expect(try db.query("SELECT count(*) FROM \(s).pipeline_runs WHERE pipeline LIKE 'backfill worker%' AND status = 'succeeded'").scalar == "2")
                #expect(try checksum(db, schema) == expected)
            }
        }
    }
}
