import Foundation
import Readers
import Logging
import Postgres

/// `khareetaty replay DIR`: a fixture directory holds a pipeline file (`pipeline.yaml`, with its
/// inputs) and the expected contents of output tables (`expected/<table>.csv`, whose header names
/// the columns compared). The replay migrates a fresh scratch schema, runs the pipeline into it,
/// compares every expected table as a multiset of rows (numbers within a relative tolerance of
/// 1e-9, timestamps in UTC), and drops the scratch schema. `update` rewrites the expected files
/// from the actual tables instead (to create or refresh a fixture; review the diff).
public struct Replay {
    public struct Outcome: Sendable {
        public var summary: RunSummary
        /// Per table: rows expected but missing, rows present but unexpected.
        public var differences: [(table: String, missing: [String], unexpected: [String])]
        public var matches: Bool { differences.allSatisfy { $0.missing.isEmpty && $0.unexpected.isEmpty } }

        public var report: String {
            var lines: [String] = []
            for d in differences {
                if d.missing.isEmpty && d.unexpected.isEmpty { lines.append("ok    \(d.table)"); continue }
                lines.append("DIFF  \(d.table): \(d.missing.count) expected row(s) missing, \(d.unexpected.count) unexpected")
                for row in d.missing.prefix(20) { lines.append("  - \(row)") }
                for row in d.unexpected.prefix(20) { lines.append("  + \(row)") }
            }
            return lines.joined(separator: "\n")
        }
    }

    public struct Mismatch: ExitCodeProviding, CustomStringConvertible {
        public let directory: String
        public init(directory: String) { self.directory = directory }
        public var exitCode: ExitCode { .failure }
        public var description: String { "replay \(directory): the tables differ from the expected ones (see above)" }
    }

    public let directory: String
    public var settings: Settings
    public var logger: Logger

    public init(directory: String, settings: Settings, logger: Logger) {
        self.directory = directory
        self.settings = settings
        self.logger = logger
    }

    var expectedDirectory: URL { URL(fileURLWithPath: directory).appendingPathComponent("expected") }

    public func run(update: Bool = false) throws -> Outcome {
        let pipeline = try PipelineDefinition.load(path: URL(fileURLWithPath: directory).appendingPathComponent("pipeline.yaml").path)
        var scratch = settings
        scratch.schema = "replay_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let db = try Database.connect(scratch)
        try db.execute("SET TIME ZONE 'UTC'")
        defer { Migrator.dropScratch(scratch.schema, db: db) }
        try Migrator(connection: db, schema: scratch.schema, distribution: scratch.distribution).migrate()

        var runner = PipelineRunner(settings: scratch, pipeline: pipeline, logger: logger)
        runner.kind = .replay
        let summary = try runner.run()

        var outcome = Outcome(summary: summary, differences: [])
        let files = (try? FileManager.default.contentsOfDirectory(atPath: expectedDirectory.path))?.filter { $0.hasSuffix(".csv") }.sorted() ?? []
        guard !files.isEmpty else { throw ConfigError(key: "expected", value: expectedDirectory.path, source: directory, problem: "no expected/<table>.csv files to compare") }
        for file in files {
            let table = String(file.dropLast(4))
            let path = expectedDirectory.appendingPathComponent(file).path
            let reader = try CSVReader(path: path)
            let columns = reader.header
            let actual = try db.query("SELECT \(columns.map(quoteIdentifier).joined(separator: ", ")) FROM \(quoteIdentifier(scratch.schema)).\(quoteIdentifier(table))")
                .rows.map { $0.map { $0 ?? "" } }
            if update {
                try Self.write(rows: actual, header: columns, to: path)
                outcome.differences.append((table, [], []))
                continue
            }
            var expected: [[String]] = []
            while let record = try reader.nextRecord() { expected.append(record.fields) }
            outcome.differences.append(Self.compare(table: table, expected: expected, actual: actual))
        }
        return outcome
    }

    /// Multiset comparison; a field matches when equal as text or, if both are numbers, within 1e-9 relative.
    static func compare(table: String, expected: [[String]], actual: [[String]]) -> (table: String, missing: [String], unexpected: [String]) {
        func key(_ row: [String]) -> String {
            row.map { field in
                if let number = Double(field), !field.isEmpty { return String(format: "%.9g", number) }
                return field
            }.joined(separator: "\u{1F}")
        }
        var remaining: [String: [[String]]] = [:]
        for row in actual { remaining[key(row), default: []].append(row) }
        var missing: [String] = []
        for row in expected {
            let k = key(row)
            if var bucket = remaining[k], !bucket.isEmpty {
                bucket.removeLast()
                remaining[k] = bucket
            } else {
                missing.append(row.joined(separator: ","))
            }
        }
        let unexpected = remaining.values.flatMap { $0 }.map { $0.joined(separator: ",") }.sorted()
        return (table, missing.sorted(), unexpected)
    }

    /// Writes rows as RFC 4180 CSV, sorted, so fixture diffs stay readable.
    static func write(rows: [[String]], header: [String], to path: String) throws {
        func quoted(_ field: String) -> String {
            field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" })
                ? "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : field
        }
        let lines = [header.map(quoted).joined(separator: ",")] + rows.map { $0.map(quoted).joined(separator: ",") }.sorted()
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
    }
}
