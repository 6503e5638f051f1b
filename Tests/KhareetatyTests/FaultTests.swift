import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// Faults beyond `kill -9`, against a second throwaway cluster that the tests may stop and restart.
@Suite(.serialized) struct FaultTests {
    @Test func startUpRetriesUntilTheDatabaseComesBackAndARestartMidRunIsExit75() throws {
        let dir = "/tmp/khareetaty-fault-\(UUID().uuidString.prefix(8))"
        let port = 57_000 + Int.random(in: 0..<2_000)
        defer { _ = try? localDB("stop", dir: dir, port: port); try? FileManager.default.removeItem(atPath: dir) }
        let url = try localDB("start", dir: dir, port: port).output
        try #require(!url.isEmpty)
        #expect(try runCLI(["migrate"], environment: ["DATABASE_URL": url]).status == 0)

        // Down at start-up: the run retries (1 s, 2 s, 4 s) and succeeds once the server is back.
        #expect(try localDB("stop", dir: dir, port: port).status == 0)
        let (waiting, waitingLog) = try startCLI(["run"], environment: ["DATABASE_URL": url, "KHAREETATY_DATABASE_CONNECT_RETRIES": "4"])
        waitFor("retrying", in: waitingLog, while: waiting)
        #expect(try localDB("start", dir: dir, port: port).status == 0)
        waiting.waitUntilExit()
        #expect(waiting.terminationStatus == 0, "\((try? String(contentsOfFile: waitingLog, encoding: .utf8)) ?? "")")

        // Restarted in the middle of a load: the run fails with 75 and says why; nothing partial stays.
        let input = try temporaryFile("restart.csv", contents: "")
        _ = try shell("/usr/bin/python3", [repoPath("bench/generate_incidents.py"), "20000", input, "--seed", "11"])
        let (loading, loadingLog) = try startCLI(["run", input], environment: ["DATABASE_URL": url, "KHAREETATY_BATCH_SIZE": "1000",
                                                                           "KHAREETATY_TEST_FAULT": "mid_copy", "KHAREETATY_TEST_FAULT_PAUSE": "3"])
        waitFor("fault point mid_copy reached", in: loadingLog, while: loading)
        #expect(try localDB("stop", dir: dir, port: port).status == 0)
        #expect(try localDB("start", dir: dir, port: port).status == 0)
        loading.waitUntilExit()
        let log = (try? String(contentsOfFile: loadingLog, encoding: .utf8)) ?? ""
        #expect(loading.terminationStatus == 75, "\(log)")
        #expect(log.contains("connection"))
        let db = try PostgresConnection(conninfo: url)
        #expect(try db.query("SELECT count(*) FROM khareetaty.incidents WHERE source_file = $1", [input]).scalar == "0")
    }

    @Test func aLostArchiveDirectoryNeverLosesTheInputFile() throws {
        let root = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent()
        let inbox = root.appendingPathComponent("inbox"), archive = root.appendingPathComponent("archive")
        for dir in [inbox, archive] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        let file = inbox.appendingPathComponent("night.csv")
        try FileManager.default.copyItem(atPath: repoPath("fixtures/incidents/kuwait-sample.csv"), toPath: file.path)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let (process, log) = try startCLI(["run"], environment: [
                "DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_INBOX_DIR": inbox.path, "KHAREETATY_INBOX_SETTLE_SECONDS": "0",
                "KHAREETATY_INBOX_ARCHIVE_DIR": archive.path, "KHAREETATY_TEST_FAULT": "before_commit", "KHAREETATY_TEST_FAULT_PAUSE": "1",
            ])
            waitFor("fault point before_commit reached", in: log, while: process)
            try FileManager.default.removeItem(at: archive)  // the archive disappears (unmounted disk, full disk…)
            process.waitUntilExit()
            #expect(process.terminationStatus == 0)
            #expect(FileManager.default.fileExists(atPath: file.path), "the input must stay in the inbox")
            #expect((try? String(contentsOfFile: log, encoding: .utf8))?.contains("could not move input") == true)
            #expect(try db.query("SELECT count(*) > 0 FROM \(quoteIdentifier(schema)).incidents").scalar == "t")
        }
    }
}
