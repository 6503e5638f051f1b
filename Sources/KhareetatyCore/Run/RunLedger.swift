import Foundation
import Postgres

/// The `pipeline_runs` ledger: a `running` row committed before any work (so a crash leaves
/// evidence), then its final status with the run's accounting.
struct RunLedger {
    let schema: String
    var table: String { quoteIdentifier(schema) + ".pipeline_runs" }

    /// Writes the `running` row. First the run's connection takes its "alive" lock (a session
    /// advisory lock on the run id, held until the connection ends), so a live run is told from
    /// a dead one by whether anyone holds that lock — not by who holds the schema's lock, which
    /// a backfill worker gives up between months.
    func start(_ db: PostgresConnection, runID: String, kind: String, pipeline: String, pipelineFile: String) throws {
        try db.query("SELECT pg_advisory_lock(hashtext('khareetaty.alive'), hashtext($1))", [runID])
        try db.query("""
            INSERT INTO \(table) (run_id, kind, status, pipeline, host, version, pipeline_file) VALUES ($1, $2, 'running', $3, $4, $5, $6)
            """, [runID, kind, pipeline, ProcessInfo.processInfo.hostName, Khareetaty.version,
                  URL(fileURLWithPath: pipelineFile).standardizedFileURL.path])
    }

    /// The final row, in the run's own transaction: succeeded (error nil) or failed with the reason.
    func finish(_ db: Transaction, _ summary: RunSummary, error: String?) throws {
        func json<T: Encodable>(_ value: T) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        try db.query("""
            UPDATE \(table) SET status = $2, finished_at = clock_timestamp(), rows_read = $3, rows_loaded = $4,
                rows_rejected = $5, rows_duplicate = $6, rows_unassigned = $7, inputs = $8::jsonb,
                rejects_by_reason = $9::jsonb, flags = $10::jsonb, error = $11, geocode_methods = $12::jsonb,
                pipeline_sha256 = $13, stage_seconds = $14::jsonb, as_of_date = $15::date, rows_month_only = $16
            WHERE run_id = $1
            """, [summary.runID, error == nil ? "succeeded" : "failed", String(summary.rowsRead), String(summary.rowsLoaded),
                  String(summary.rowsRejected), String(summary.rowsDuplicate), String(summary.rowsUnassigned),
                  try json(summary.inputs), try json(summary.rejectsByReason), try json(summary.flags), error,
                  try json(summary.geocodeMethods), summary.pipelineSHA256, try json(summary.stageSeconds),
                  summary.asOfDate.isEmpty ? nil : summary.asOfDate, String(summary.rowsMonthOnly)])
    }

    /// A run without accounting (a backfill, a backfill worker) that finished.
    func succeed(_ db: PostgresConnection, runID: String) throws {
        try db.query("UPDATE \(table) SET status = 'succeeded', finished_at = clock_timestamp(), error = NULL WHERE run_id = $1", [runID])
    }

    /// Marks `failed (stale)` every `running` row whose run is dead: nobody holds its alive lock
    /// (its connection is gone: crash, kill, lost network). Taking the lock is the test; it is
    /// given back at once. Returns the run ids marked.
    @discardableResult
    func markStale(_ db: PostgresConnection, by runID: String) throws -> [String] {
        var marked: [String] = []
        for row in try db.query("SELECT run_id FROM \(table) WHERE status = 'running' AND run_id <> $1::uuid", [runID]).rows {
            guard let id = row[0] else { continue }
            guard try db.query("SELECT pg_try_advisory_lock(hashtext('khareetaty.alive'), hashtext($1))", [id]).scalar == "t" else { continue }
            _ = try db.query("SELECT pg_advisory_unlock(hashtext('khareetaty.alive'), hashtext($1))", [id])
            try db.query("""
                UPDATE \(table) SET status = 'failed', finished_at = clock_timestamp(),
                    error = 'stale: the run ended without finishing (crash, kill or lost connection); marked by run ' || $2
                WHERE run_id = $1 AND status = 'running'
                """, [id, runID])
            marked.append(id)
        }
        return marked
    }

    /// Best effort, in its own transaction after the run's was rolled back.
    /// An error as the ledger keeps it, which the reader role can read: a server error without
    /// its DETAIL (which can quote a row's values, e.g. `Key (incident_id)=(…)`); our own errors
    /// never quote input values (those stay in incident_rejects, which the reader cannot read).
    static func text(of error: Error) -> String {
        if var error = error as? PostgresError {
            error.detail = nil
            return error.description
        }
        return String(describing: error)
    }

    /// Best effort, after the rollback: the run was stopped by a signal.
    func cancel(_ db: PostgresConnection, runID: String, reason: String) {
        _ = try? db.query("UPDATE \(table) SET status = 'cancelled', finished_at = clock_timestamp(), error = $2 WHERE run_id = $1",
                          [runID, reason])
    }

    func fail(_ db: PostgresConnection, runID: String, error: String) {
        _ = try? db.query("UPDATE \(table) SET status = 'failed', finished_at = clock_timestamp(), error = $2 WHERE run_id = $1",
                          [runID, error])
    }
}


/// The last runs from the ledger, newest first: what `khareetaty runs` prints for the on-call engineer.
public struct RunHistory {
    public struct Entry: Sendable, Encodable {
        public var runID: String
        public var kind: String
        public var status: String
        public var pipeline: String
        public var startedAt: String
        public var seconds: Double?
        public var asOfDate: String?
        public var rowsRead: Int?
        public var rowsLoaded: Int?
        public var rowsRejected: Int?
        public var rowsDuplicate: Int?
        public var rowsUnassigned: Int?
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case runID = "run_id", kind, status, pipeline, startedAt = "started_at", seconds, asOfDate = "as_of_date", rowsRead = "rows_read"
            case rowsLoaded = "rows_loaded", rowsRejected = "rows_rejected", rowsDuplicate = "rows_duplicate", rowsUnassigned = "rows_unassigned", error
        }
    }

    public static func last(_ count: Int, db: PostgresConnection, schema: String) throws -> [Entry] {
        try db.query("""
            SELECT run_id, kind, status, pipeline, to_char(started_at AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS'),
                   extract(epoch FROM finished_at - started_at)::float8, as_of_date::text,
                   rows_read, rows_loaded, rows_rejected, rows_duplicate, rows_unassigned, error
            FROM \(quoteIdentifier(schema)).pipeline_runs ORDER BY started_at DESC, run_id LIMIT $1
            """, [String(count)]).typedRows.map { r in
                Entry(runID: try r.text(0), kind: try r.text(1), status: try r.text(2), pipeline: try r.text(3), startedAt: try r.text(4), seconds: r[5].flatMap(Double.init),
                      asOfDate: r[6], rowsRead: r[7].flatMap(Int.init), rowsLoaded: r[8].flatMap(Int.init), rowsRejected: r[9].flatMap(Int.init),
                      rowsDuplicate: r[10].flatMap(Int.init), rowsUnassigned: r[11].flatMap(Int.init), error: r[12])
            }
    }

    /// Aligned columns, one run a line; the error's first line, shortened, at the end.
    public static func table(_ entries: [Entry]) -> String {
        let header = ["started (UTC)", "run", "kind", "status", "seconds", "as of", "read", "loaded", "rejected", "duplicates", "unassigned", "error"]
        let rows = entries.map { e -> [String] in
            let error = e.error.map { line in
                let first = line.split(separator: "\n").first.map(String.init) ?? ""
                return first.count > 80 ? String(first.prefix(79)) + "…" : first
            } ?? ""
            return [e.startedAt, String(e.runID.prefix(8)), e.kind, e.status, e.seconds.map { String(format: "%.1f", $0) } ?? "-",
                    e.asOfDate ?? "-", e.rowsRead.map(String.init) ?? "-", e.rowsLoaded.map(String.init) ?? "-", e.rowsRejected.map(String.init) ?? "-",
                    e.rowsDuplicate.map(String.init) ?? "-", e.rowsUnassigned.map(String.init) ?? "-", error]
        }
        let widths = header.indices.map { i in ([header] + rows).map { $0[i].count }.max()! }
        return ([header] + rows).map { row in
            row.enumerated().map { i, cell in i == row.count - 1 ? cell : cell.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }.joined(separator: "\n")
    }
}
