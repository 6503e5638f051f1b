import Foundation
import Postgres
import Testing
@testable import KhareetatyCore

/// Nothing is lost from the inbox: files still being written wait or roll back, a file changed
/// after the commit stays for the next run, odd names and odd inputs never stop every run.
@Suite(.serialized) struct InboxHardeningTests {
    static let header = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n"
    static func rows(_ range: ClosedRange<Int>) -> String {
        range.map { "T\($0),2026-11-20T10:00:00+03:00,theft,29.33,48.07,Salmiya,d,\n" }.joined()
    }

    struct Dirs {
        let inbox: URL, archive: URL, quarantine: URL
        init() throws {
            let root = URL(fileURLWithPath: try temporaryFile("x", contents: "")).deletingLastPathComponent()
            (inbox, archive, quarantine) = (root.appendingPathComponent("inbox"), root.appendingPathComponent("archive"), root.appendingPathComponent("quarantine"))
            for dir in [inbox, archive, quarantine] { try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true) }
        }
        func names(_ dir: URL) throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() }
        func environment(schema: String, settle: Int = 0) throws -> [String: String] {
            ["DATABASE_URL": try testDatabaseURL(), "KHAREETATY_DATABASE_SCHEMA": schema, "KHAREETATY_INBOX_DIR": inbox.path,
             "KHAREETATY_INBOX_ARCHIVE_DIR": archive.path, "KHAREETATY_INBOX_QUARANTINE_DIR": quarantine.path,
             "KHAREETATY_INBOX_SETTLE_SECONDS": String(settle), "KHAREETATY_PIPELINE": try nightlyPipeline(tables: "[]")]
        }
    }

    func count(_ db: PostgresConnection, _ schema: String) throws -> String? {
        try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents").scalar
    }

    func append(_ text: String, to file: URL) throws {
        let handle = try FileHandle(forWritingTo: file)
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(text.utf8))
        try handle.close()
    }

    /// `run` paused at a fault point while `meanwhile` changes the input; its exit status and stderr.
    func runPaused(at point: String, environment: [String: String], meanwhile: () throws -> Void) throws -> (Int32, String) {
        var env = environment
        env["KHAREETATY_TEST_FAULT"] = point
        env["KHAREETATY_TEST_FAULT_PAUSE"] = "2"
        let (process, log) = try startCLI(["run"], environment: env)
        waitFor("fault point \(point) reached", in: log, while: process)
        try meanwhile()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOfFile: log, encoding: .utf8))
    }

    /// The case: 1,000 rows and half a record when the run starts, 2,000 rows when it ends.
    @Test func aFileWrittenWhileTheRunReadsItRollsBackAndLoadsWholeNextTime() throws {
        let dirs = try Dirs()
        let file = dirs.inbox.appendingPathComponent("night.csv")
        let full = Self.header + Self.rows(1...2000)
        let cut = full.index(full.startIndex, offsetBy: (Self.header + Self.rows(1...1000)).count + 20)
        try Data(full[..<cut].utf8).write(to: file)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let (status, stderr) = try runPaused(at: "while_reading", environment: try dirs.environment(schema: schema)) {
                try append(String(full[cut...]), to: file)
            }
            #expect(status == 75, "\(stderr)")
            #expect(stderr.contains("changed while it was read"))
            #expect(try count(db, schema) == "0")
            #expect(try dirs.names(dirs.inbox) == ["night.csv"] && dirs.names(dirs.archive).isEmpty && dirs.names(dirs.quarantine).isEmpty)

            let next = try runCLI(["run", "--summary", "json"], environment: try dirs.environment(schema: schema))
            #expect(next.status == 0, "\(next.stderr)")
            #expect(try count(db, schema) == "2000")
            #expect(try dirs.names(dirs.archive) == ["night.csv"])
            #expect(try Data(contentsOf: dirs.archive.appendingPathComponent("night.csv")) == Data(full.utf8))
        }
    }

    /// Written to again after the run checked it (between its last check and the archive): the
    /// commit stands for what was read, the file stays, and the next run loads what it holds now.
    @Test func aFileChangedAfterTheCheckStaysInTheInboxAndNothingIsLost() throws {
        let dirs = try Dirs()
        let file = dirs.inbox.appendingPathComponent("night.csv")
        try Data((Self.header + Self.rows(1...1000)).utf8).write(to: file)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let (status, stderr) = try runPaused(at: "before_commit", environment: try dirs.environment(schema: schema)) {
                try append(Self.rows(1001...2000), to: file)
            }
            #expect(status == 0, "\(stderr)")
            #expect(stderr.contains("changed after the run read it"))
            #expect(try count(db, schema) == "1000")
            #expect(try dirs.names(dirs.inbox) == ["night.csv"] && dirs.names(dirs.archive).isEmpty)

            let next = try runCLI(["run"], environment: try dirs.environment(schema: schema))
            #expect(next.status == 0, "\(next.stderr)")
            #expect(try count(db, schema) == "2000")
            #expect(try dirs.names(dirs.archive) == ["night.csv"] && dirs.names(dirs.inbox).isEmpty)
        }
    }

    @Test func aFileYoungerThanTheSettleTimeWaitsForTheNextRun() throws {
        let dirs = try Dirs()
        let file = dirs.inbox.appendingPathComponent("night.csv")
        try Data((Self.header + Self.rows(1...10)).utf8).write(to: file)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = try dirs.environment(schema: schema, settle: 60)
            let early = try runCLI(["run"], environment: env)
            #expect(early.status == 0, "\(early.stderr)")
            #expect(early.stderr.contains("for the next run"))
            #expect(try count(db, schema) == "0")
            #expect(try dirs.names(dirs.inbox) == ["night.csv"])

            try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-120)], ofItemAtPath: file.path)
            let later = try runCLI(["run"], environment: env)
            #expect(later.status == 0, "\(later.stderr)")
            #expect(try count(db, schema) == "10")
            #expect(try dirs.names(dirs.archive) == ["night.csv"])
        }
    }

    /// A name that is not UTF-8 used to fail every run (exit 1): now it goes to the quarantine under a
    /// readable name, and the good file beside it loads.
    @Test func aFileNameThatIsNotUTF8IsQuarantinedAndTheRestLoads() throws {
        let dirs = try Dirs()
        try Data((Self.header + Self.rows(1...10)).utf8).write(to: dirs.inbox.appendingPathComponent("good.csv"))
        let latin1Name: [UInt8] = [0x72, 0xE9, 0x73, 0x75, 0x6D, 0xE9, 0x2E, 0x63, 0x73, 0x76]  // "résumé.csv" in Latin-1
        let badName: [UInt8] = Array(dirs.inbox.path.utf8) + [0x2F] + latin1Name + [0]
        let fd = badName.withUnsafeBufferPointer { $0.withMemoryRebound(to: CChar.self) { open($0.baseAddress!, O_CREAT | O_WRONLY, 0o644) } }
        #expect(fd >= 0)
        close(fd)
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let result = try runCLI(["run"], environment: try dirs.environment(schema: schema))
            #expect(result.status == 0, "\(result.stderr)")
            #expect(try count(db, schema) == "10")
            #expect(try dirs.names(dirs.quarantine) == ["r%E9sum%E9.csv"])
            #expect(try Inbox.names(in: dirs.inbox.path).isEmpty)
        }
    }

    @Test func theSameFileTwiceIsReadOnceAndStreamsOrMissingFilesAreRefusedAtOnce() throws {
        let dir = URL(fileURLWithPath: try temporaryFile("a.csv", contents: Self.header + Self.rows(1...10))).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: dir.appendingPathComponent("x"), withIntermediateDirectories: true)
        let pipeline = try nightlyPipeline(tables: "[]")
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let env = ["KHAREETATY_DATABASE_SCHEMA": schema]
            let twice = try runCLI(["run", "--pipeline", pipeline, "--summary", "json", dir.path + "/a.csv", dir.path + "/x/../a.csv"], environment: env, inheritDatabase: true)
            #expect(twice.status == 0, "\(twice.stderr)")
            #expect(twice.stdout.contains("\"rows_read\" : 10") || twice.stdout.contains("\"rows_read\":10"), "\(twice.stdout)")

            let missing = try runCLI(["run", "--pipeline", pipeline, dir.path + "/nope.csv"], environment: env, inheritDatabase: true)
            #expect(missing.status == 66 && missing.stderr.contains("nope.csv: not found"), "\(missing.stderr)")

            let fifo = dir.path + "/pipe.csv"
            #expect(mkfifo(fifo, 0o600) == 0)
            let started = Date()
            let piped = try runCLI(["run", "--pipeline", pipeline, fifo], environment: env, inheritDatabase: true)
            #expect(piped.status == 66 && piped.stderr.contains("is a named pipe"), "\(piped.stderr)")
            #expect(Date().timeIntervalSince(started) < 30, "a named pipe must be refused, not waited on")
            #expect(try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).pipeline_runs").scalar == "1")
        }
    }
}
