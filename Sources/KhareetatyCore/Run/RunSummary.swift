import Foundation

/// What a run did, printed at the end (text or `--summary json`) and stored on its ledger row.
/// The accounting always adds up: rows_read = rows_loaded + rows_rejected + rows_duplicate.
public struct RunSummary: Codable, Sendable {
    public struct Input: Codable, Sendable {
        public var path: String
        public var bytes: Int
        public var rowsRead: Int
        public var rowsRejected: Int
    }

    public var runID: String
    public var status: String
    public var pipeline: String
    public var rowsRead = 0
    public var rowsLoaded = 0
    public var rowsRejected = 0
    public var rowsDuplicate = 0
    public var rowsUnassigned = 0
    public var rejectsByReason: [String: Int] = [:]
    public var inputs: [Input] = []
    public var durationS = 0.0
    public var dryRun = false

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", status, pipeline, rowsRead = "rows_read", rowsLoaded = "rows_loaded", rowsRejected = "rows_rejected"
        case rowsDuplicate = "rows_duplicate", rowsUnassigned = "rows_unassigned", rejectsByReason = "rejects_by_reason"
        case inputs, durationS = "duration_s", dryRun = "dry_run"
    }

    public var accountingHolds: Bool { rowsRead == rowsLoaded + rowsRejected + rowsDuplicate }

    public func json() -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }

    public var text: String {
        var lines = [
            "run \(runID) \(status)\(dryRun ? " (dry run: nothing committed)" : "") — pipeline \(pipeline), \(String(format: "%.2f", durationS)) s",
            "  read \(rowsRead) = loaded \(rowsLoaded) + rejected \(rowsRejected) + duplicates \(rowsDuplicate)"
                + (accountingHolds ? "  ✓" : "  ✗ DOES NOT ADD UP"),
            "  unassigned to a district: \(rowsUnassigned)",
        ]
        for (reason, count) in rejectsByReason.sorted(by: { $0.key < $1.key }) { lines.append("  rejected \(reason): \(count)") }
        for input in inputs { lines.append("  input \(input.path): \(input.rowsRead) rows, \(input.bytes) bytes, \(input.rowsRejected) rejected") }
        return lines.joined(separator: "\n")
    }
}
