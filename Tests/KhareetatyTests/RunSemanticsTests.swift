import Foundation
import Logging
import Postgres
import Testing
import TestSupport
@testable import KhareetatyCore

/// Whole runs of the fixture pipelines against the real database: every record's fate, the
/// per-file accounting, duplicates across runs, and the reject-ratio guard.
@Suite struct RunSemanticsTests {
    func run(_ pipelinePath: String, schema: String, edit: (inout PipelineDefinition) -> Void = { _ in }) throws -> RunSummary {
        var pipeline = try PipelineDefinition.load(path: repoPath(pipelinePath))
        edit(&pipeline)
        return try PipelineRunner(settings: try testSettings(schema: schema), pipeline: pipeline, logger: Logger(label: "test")).run()
    }

    @Test func everyMessyRecordMeetsItsExpectedFate() throws {
        let fates = try String(contentsOfFile: repoPath("fixtures/incidents/messy/expected-fates.csv"), encoding: .utf8)
            .split(separator: "\n").dropFirst().map { line -> (Int, String) in
                let parts = line.split(separator: ",", maxSplits: 1)
                return (Int(parts[0])!, String(parts[1]))
            }
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let summary = try run("fixtures/incidents/messy/pipeline.yaml", schema: schema)
            #expect(summary.accountingHolds)
            #expect(summary.rowsRead == fates.count)
            let s = quoteIdentifier(schema)
            let loaded = Dictionary(uniqueKeysWithValues: try db.query("SELECT source_line, array_to_string(flags, ',') FROM \(s).incidents").rows
                .map { (Int($0[0]!)!, $0[1] ?? "") })
            let rejected = Dictionary(uniqueKeysWithValues: try db.query("SELECT source_line, reason_code FROM \(s).incident_rejects").rows
                .map { (Int($0[0]!)!, $0[1]!) })
            for (line, fate) in fates {
                switch fate {
                case "loaded": #expect(loaded[line] == "", "line \(line): \(fate), got \(loaded[line] ?? rejected[line] ?? "nothing")")
                case "duplicate": #expect(loaded[line] == nil && rejected[line] == nil, "line \(line) should be a collapsed duplicate")
                case let f where f.hasPrefix("loaded:"): #expect(loaded[line] == String(f.dropFirst(7)), "line \(line): \(f), got \(loaded[line] ?? "-")")
                case let f where f.hasPrefix("reject:"): #expect(rejected[line] == String(f.dropFirst(7)), "line \(line): \(f), got \(rejected[line] ?? "-")")
                default: Issue.record("unknown fate \(fate)")
                }
            }
            #expect(summary.rowsDuplicate == fates.filter { $0.1 == "duplicate" }.count)
            // The transcoded windows-1256 row reads as Arabic.
            #expect(try db.query("SELECT area_name FROM \(s).incidents WHERE 'transcoded' = ANY(flags)").scalar == "السالمية")
        }
    }

    @Test func severalInputsOfBothFormatsEachAccountedFor() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let summary = try run("pipelines/nightly.yaml", schema: schema) { pipeline in
                pipeline.inputs += [repoPath("fixtures/incidents/xml/kuwait-feed.xml"), repoPath("fixtures/incidents/messy/kuwait-messy.csv")]
                pipeline.clean.maxRejectRatio = 0.5
            }
            #expect(summary.inputs.count == 3)
            #expect(summary.accountingHolds)
            for input in summary.inputs {
                #expect(input.accountingHolds, "\(input.path)")
                #expect(input.sha256.count == 64)
                let stored = try db.query("SELECT count(*) FROM \(quoteIdentifier(schema)).incidents WHERE source_file = $1", [input.path]).scalar
                #expect(stored == String(input.rowsLoaded))
            }
            let ledger = try db.query("SELECT jsonb_array_length(inputs), rejects_by_reason->>'bad_timestamp' FROM \(quoteIdentifier(schema)).pipeline_runs").rows
            #expect(ledger.first?[0] == "3")
            #expect(ledger.first?[1] == String(summary.rejectsByReason["bad_timestamp"] ?? 0))
        }
    }

    @Test func aResentIncidentReplacesTheStoredOneUnlessItIsOlder() throws {
        let header = "incident_id,occurred_at,category,latitude,longitude,area,description,updated_at\n"
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let s = quoteIdentifier(schema)
            func load(_ rows: String) throws -> RunSummary {
                let file = try temporaryFile("resend.csv", contents: header + rows)
                return try run("pipelines/nightly.yaml", schema: schema) { $0.inputs = [file] }
            }
            _ = try load("R-1,2026-11-20T10:00:00+03:00,theft,29.3375,48.0716,,v1,2026-11-20T11:00:00+03:00\nR-2,2026-11-20T10:00:00+03:00,theft,29.3375,48.0716,,v1,\n")
            // R-1 again with a newer updated_at, moved to another day; R-2 again without updated_at.
            let second = try load("R-1,2026-11-19T10:00:00+03:00,theft,29.3375,48.0716,,v2,2026-11-21T11:00:00+03:00\nR-2,2026-11-20T10:00:00+03:00,theft,29.3375,48.0716,,v2,\n")
            #expect(second.rowsLoaded == 2 && second.rowsDuplicate == 0)
            // R-1 once more, but older than what is stored: the stored version stays.
            let third = try load("R-1,2026-11-18T10:00:00+03:00,theft,29.3375,48.0716,,stale,2026-11-20T12:00:00+03:00\n")
            #expect(third.rowsLoaded == 0 && third.rowsDuplicate == 1 && third.accountingHolds)

            let rows = try db.query("SELECT incident_id, description, local_date::text FROM \(s).incidents ORDER BY 1").rows
            #expect(rows == [["R-1", "v2", "2026-11-19"], ["R-2", "v2", "2026-11-20"]])
            // Never counted twice: the day R-1 left is recomputed.
            let daily = try db.query("SELECT local_date::text, incident_count FROM \(s).district_daily WHERE category = 'all' ORDER BY 1").rows
            #expect(daily == [["2026-11-19", "1"], ["2026-11-20", "1"]])
        }
    }

    @Test func tooManyRejectsFailTheRunWith65ButRecordTheRejects() throws {
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            do {
                _ = try run("fixtures/incidents/messy/pipeline.yaml", schema: schema) { $0.clean.maxRejectRatio = 0.05 }
                Issue.record("a third of the records were rejected and the run passed")
            } catch let error as RejectRatioExceeded {
                #expect(error.exitCode == .dataError)
                #expect(error.description.contains("clean.max_reject_ratio"))
            }
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT count(*) FROM \(s).incidents").scalar == "0")
            #expect(try db.query("SELECT count(*) > 0 FROM \(s).incident_rejects").scalar == "t")
            let ledger = try db.query("SELECT status, rows_rejected > 0, error LIKE '%max_reject_ratio%' FROM \(s).pipeline_runs").rows
            #expect(ledger == [["failed", "t", "t"]])
        }
    }

    /// The SFPD export through its own pipeline file; expectations come from Python's csv module.
    @Test func sanFranciscoExportLoadsWithItsOwnPipeline() throws {
        let csvPath = repoPath("fixtures/incidents/sf/sf_crime_jul_dec_2012.csv")
        let script = "import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(len(r), len({x['IncidntNum'] for x in r}))"
        let reference = String(decoding: try shell("/usr/bin/python3", ["-c", script, csvPath]), as: UTF8.self)
            .split(separator: " ").map { Int($0.trimmingCharacters(in: .whitespacesAndNewlines))! }
        try withScratchSchema { db, schema in
            try Migrator(connection: db, schema: schema).migrate()
            let summary = try run("pipelines/sf.yaml", schema: schema)
            #expect(summary.accountingHolds)
            #expect(summary.rowsRead == reference[0])
            #expect(summary.rowsLoaded + summary.rowsRejected == reference[1])
            #expect(summary.rowsDuplicate == reference[0] - reference[1])
            let s = quoteIdentifier(schema)
            #expect(try db.query("SELECT count(*) FROM \(s).districts").scalar == "37")
            #expect(try db.query("SELECT string_agg(DISTINCT category, ',' ORDER BY category) FROM \(s).incidents").scalar == "drugs,robbery,vandalism,vehicle_theft")
            // A Pacific-time date: local midnight, stored as 07:00 or 08:00 UTC.
            let hours = try db.query("SELECT string_agg(DISTINCT extract(hour FROM occurred_at AT TIME ZONE 'UTC')::text, ',') FROM \(s).incidents").scalar
            #expect(hours == "7,8")
            #expect(Double(summary.rowsUnassigned) < Double(summary.rowsLoaded) * 0.01)
        }
    }
}
