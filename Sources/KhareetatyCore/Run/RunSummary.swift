import Foundation

/// What a run did, printed at the end (text or `--summary json`) and stored on its ledger row.
/// The accounting always adds up: rows_read = rows_loaded + rows_rejected + rows_duplicate.
public struct RunSummary: Codable, Sendable {
    /// One input file: its identity and its own accounting (read = loaded + rejected + duplicate).
    public struct Input: Codable, Sendable {
        public var path: String
        public var bytes: Int
        public var sha256: String
        public var rowsRead = 0
        public var rowsLoaded = 0
        public var rowsRejected = 0
        public var rowsDuplicate = 0
        /// Why the file was not read (already loaded by a succeeded run), if it was not.
        public var skipped: String?
        /// Canonical field → the header name read for it in this file (of its aliases, the first present).
        public var columns: [String: String]?

        enum CodingKeys: String, CodingKey {
            case path, bytes, sha256, rowsRead = "rows_read", rowsLoaded = "rows_loaded", rowsRejected = "rows_rejected"
            case rowsDuplicate = "rows_duplicate", skipped, columns
        }

        public var accountingHolds: Bool { rowsRead == rowsLoaded + rowsRejected + rowsDuplicate }
    }

    public var runID: String
    public var status: String
    public var pipeline: String
    public var rowsRead = 0
    public var rowsLoaded = 0
    public var rowsRejected = 0
    public var rowsDuplicate = 0
    public var rowsUnassigned = 0
    /// Loaded incidents known only to the month: in `district_monthly` and the accounting, not in
    /// daily counts, windows, trends or hot spots.
    public var rowsMonthOnly = 0
    public var rejectsByReason: [String: Int] = [:]
    /// Per reject reason, where its first record is (`file line N`; never the record's text: the
    /// message with the value is in `incident_rejects`).
    public var firstRejects: [String: String] = [:]
    /// Cleaned records by repair/substitution flag (swapped_coordinates, unknown_category, transcoded).
    public var flags: [String: Int] = [:]
    /// Loaded incidents by geocode method (point, nearest, name, none).
    public var geocodeMethods: [String: Int] = [:]
    public var inputs: [Input] = []
    public var durationS = 0.0
    /// Wall seconds per stage: `ingest_clean_geocode` (producer thread, overlapping `load`),
    /// `load` (COPY of batches), `finish` (duplicates, re-sends, daily counts).
    public var stageSeconds: [String: Double] = [:]
    public var pipelineSHA256 = ""
    /// The local date the run reports on.
    public var asOfDate = ""
    /// Rows written to `district_trends` for the as-of date.
    public var trendRows = 0
    /// Rows written to `hotspot_cells` for the as-of date (all windows).
    public var hotspotCells = 0
    /// Rows written to `emerging_hotspots` for the as-of date.
    public var emergingCells = 0
    /// One line per hot-spot analysis of the as-of date: state, incidents, cell size and why.
    public var hotspotAnalyses: [String] = []
    public var dryRun = false
    /// Why the run failed (a failed run's summary is printed too), and the exit code it ends with.
    public var error: String?
    /// What to run when the as-of date's windows hold no incidents but the database has some
    /// (a date after the export's last day, say): the summary says so instead of printing zeros.
    public var advice: String?
    public var exitCode: Int?

    enum CodingKeys: String, CodingKey {
        case runID = "run_id", status, pipeline, rowsRead = "rows_read", rowsLoaded = "rows_loaded", rowsRejected = "rows_rejected"
        case rowsDuplicate = "rows_duplicate", rowsUnassigned = "rows_unassigned", rowsMonthOnly = "rows_month_only", rejectsByReason = "rejects_by_reason", firstRejects = "first_rejects", flags
        case geocodeMethods = "geocode_methods", stageSeconds = "stage_seconds", pipelineSHA256 = "pipeline_sha256", asOfDate = "as_of_date", trendRows = "trend_rows", hotspotCells = "hotspot_cells", emergingCells = "emerging_cells", hotspotAnalyses = "hotspot_analyses", inputs, durationS = "duration_s", dryRun = "dry_run"
        case error, exitCode = "exit_code"
    }

    public init(runID: String, status: String, pipeline: String) {
        (self.runID, self.status, self.pipeline) = (runID, status, pipeline)
    }

    /// The sum holds for the run and for every input file.
    public var accountingHolds: Bool {
        rowsRead == rowsLoaded + rowsRejected + rowsDuplicate && inputs.allSatisfy(\.accountingHolds)
    }

    public var rejectRatio: Double { rowsRead == 0 ? 0 : Double(rowsRejected) / Double(rowsRead) }

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
            "  geocoded: " + GeocodeMethod.allCases.map { "\($0.rawValue) \(geocodeMethods[$0.rawValue] ?? 0)" }.joined(separator: ", ")
                + " (unassigned: \(rowsUnassigned))",
        ]
        if rowsMonthOnly > 0 {
            lines.append("  known only to the month: \(rowsMonthOnly) of the loaded (monthly counts only; left out of daily counts, trends and hot spots)")
        }
        if !asOfDate.isEmpty { lines.append("  as of \(asOfDate): \(trendRows) district trend rows, \(hotspotCells) hot-spot cells, \(emergingCells) emerging hot-spot cells") }
        if let error { lines.append("  error: \(error)") }
        if let advice { lines.append("  note: \(advice)") }
        for analysis in hotspotAnalyses { lines.append("  \(analysis)") }
        for (reason, count) in rejectsByReason.sorted(by: { $0.key < $1.key }) {
            lines.append("  rejected \(reason): \(count)" + (firstRejects[reason].map { " (first: \($0))" } ?? ""))
        }
        for (flag, count) in flags.sorted(by: { $0.key < $1.key }) { lines.append("  flagged \(flag): \(count)") }
        for input in inputs {
            if let skipped = input.skipped {
                lines.append("  input \(input.path) (sha256 \(input.sha256.prefix(12))…): skipped, \(skipped)")
                continue
            }
            lines.append("  input \(input.path) (\(input.bytes) bytes, sha256 \(input.sha256.prefix(12))…): read \(input.rowsRead) = loaded \(input.rowsLoaded)"
                         + " + rejected \(input.rowsRejected) + duplicates \(input.rowsDuplicate)")
            if let columns = input.columns, columns.contains(where: { $0.key != $0.value }) {
                lines.append("    columns: " + columns.sorted(by: { $0.key < $1.key }).map { "\($0.key) ← \($0.value)" }.joined(separator: ", "))
            }
        }
        return lines.joined(separator: "\n")
    }
}
