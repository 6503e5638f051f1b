import Foundation
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// The test database: `KHAREETATY_TEST_DATABASE_URL` (set by `make test`), else the URL the local
/// cluster script wrote. There is deliberately no fallback that skips: without a database these
/// tests fail, loudly.
func testDatabaseURL() throws -> String {
    if let url = ProcessInfo.processInfo.environment["KHAREETATY_TEST_DATABASE_URL"], !url.isEmpty { return url }
    if let text = try? String(contentsOfFile: repoPath(".localdb/url"), encoding: .utf8) {
        return text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
    throw TestSetupError(description: "no test database: run `make test` (or set KHAREETATY_TEST_DATABASE_URL)")
}

func connectTestDatabase() throws -> PostgresConnection {
    try PostgresConnection(conninfo: testDatabaseURL())
}

/// Runs `body` with a fresh, uniquely named schema that is dropped afterwards.
@discardableResult
func withScratchSchema<T>(_ body: (PostgresConnection, String) throws -> T) throws -> T {
    let db = try connectTestDatabase()
    let schema = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(20)
    try db.execute("CREATE SCHEMA \(quoteIdentifier(String(schema)))")
    defer { Migrator.dropScratch(String(schema), db: db) }
    return try body(db, String(schema))
}

/// Settings pointing at the test database and a scratch schema.
func testSettings(schema: String) throws -> Settings {
    var settings = Settings()
    settings.databaseURL = try testDatabaseURL()
    settings.schema = schema
    return settings
}

/// A file under a fresh directory in .build/test-tmp (git-ignored, gone with `rm -rf .build`).
func temporaryFile(_ name: String, contents: String) throws -> String {
    let dir = repoRoot.appendingPathComponent(".build/test-tmp/" + UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    let path = dir.appendingPathComponent(name).path
    try Data(contents.utf8).write(to: URL(fileURLWithPath: path))
    return path
}

struct CLIResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Runs the built `khareetaty` binary (built by `swift test` with the rest of the package).
func runCLI(_ arguments: [String], environment: [String: String] = [:], inheritDatabase: Bool = false) throws -> CLIResult {
    let binary = repoPath(".build/debug/khareetaty")
    guard FileManager.default.isExecutableFile(atPath: binary) else {
        throw TestSetupError(description: "\(binary) is missing: run `swift build` first")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: binary)
    process.arguments = arguments
    process.currentDirectoryURL = repoRoot
    // A clean environment: nothing from the developer's shell leaks into what is tested.
    var env = ["PATH": "/usr/bin:/bin", "HOME": NSTemporaryDirectory()]
    if inheritDatabase { env["DATABASE_URL"] = try testDatabaseURL() }
    env.merge(environment) { $1 }
    process.environment = env
    let out = Pipe(), err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return CLIResult(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self), stderr: String(decoding: errData, as: UTF8.self))
}

/// Runs scripts/local-db.sh on a second, throwaway cluster (own folder and port), so tests can
/// stop, restart and kill a server without disturbing the suite's own database.
func localDB(_ command: String, dir: String, port: Int) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/bin/bash")
    process.arguments = [repoPath("scripts/local-db.sh"), command]
    var env = ProcessInfo.processInfo.environment
    env["KHAREETATY_LOCALDB_DIR"] = dir
    env["KHAREETATY_LOCALDB_PORT"] = String(port)
    process.environment = env
    // Output goes to a file, not a pipe: the server the script starts could inherit a pipe's
    // write end from this process and keep it open for ever.
    let outputPath = dir + ".out"
    _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
    defer { try? FileManager.default.removeItem(atPath: outputPath) }
    let output = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
    process.standardOutput = output
    process.standardError = FileHandle.nullDevice
    process.standardInput = FileHandle.nullDevice
    try process.run()
    process.waitUntilExit()
    try output.close()
    let text = try String(contentsOfFile: outputPath, encoding: .utf8)
    return (process.terminationStatus, text.trimmingCharacters(in: .whitespacesAndNewlines))
}


/// A runner for the nightly pipeline into `schema` (migrated first), reporting as of `asOf`,
/// on the pipeline's own inputs or on `inputs`.
func nightlyRunner(db: PostgresConnection, schema: String, asOf: String, inputs: [String]? = nil) throws -> PipelineRunner {
    try Migrator(connection: db, schema: schema).migrate()
    var pipeline = try PipelineDefinition.load(path: repoPath("pipelines/nightly.yaml"))
    if let inputs { pipeline.inputs = inputs }
    var runner = PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: .init(label: "test"))
    runner.asOfDate = asOf
    return runner
}

/// pipelines/nightly.yaml with `aggregate.tables` replaced (paths made absolute), written to a
/// temporary file: for tests whose subject is not the derived tables they leave out.
func nightlyPipeline(tables: String) throws -> String {
    let text = try String(contentsOfFile: repoPath("pipelines/nightly.yaml"), encoding: .utf8)
        .replacingOccurrences(of: "../", with: repoRoot.path + "/")
        .split(separator: "\n", omittingEmptySubsequences: false)
        .map { $0.hasPrefix("  tables:") ? "  tables: \(tables)" : String($0) }
        .joined(separator: "\n")
    return try temporaryFile("nightly-\(UUID().uuidString.prefix(6)).yaml", contents: text)
}

/// Starts the CLI in the background with stderr to a file.
func startCLI(_ arguments: [String], environment: [String: String]) throws -> (Process, String) {
    let stderrPath = try temporaryFile("stderr.txt", contents: "")
    let process = Process()
    process.executableURL = URL(fileURLWithPath: repoPath(".build/debug/khareetaty"))
    process.arguments = arguments
    process.currentDirectoryURL = repoRoot
    process.environment = ["PATH": "/usr/bin:/bin"].merging(environment) { $1 }
    process.standardOutput = FileHandle.nullDevice
    process.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: stderrPath))
    try process.run()
    return (process, stderrPath)
}

func waitFor(_ text: String, in path: String, while process: Process) {
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline, process.isRunning, (try? String(contentsOfFile: path, encoding: .utf8))?.contains(text) != true {
        Thread.sleep(forTimeInterval: 0.05)
    }
}
