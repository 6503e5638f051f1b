import Foundation
import Postgres

/// The `pipeline_runs` ledger: a `running` row committed before any work (so a crash leaves
/// evidence), then its final status with the run's accounting.
struct RunLedger {
    let schema: String
    var table: String { quoteIdentifier(schema) + ".pipeline_runs" }

    func start(_ db: PostgresConnection, runID: String, kind: String, pipeline: String) throws {
        try db.query("""
            INSERT INTO \(table) (run_id, kind, status, pipeline, host, version) VALUES ($1, $2, 'running', $3, $4, $5)
            """, [runID, kind, pipeline, ProcessInfo.processInfo.hostName, Khareetaty.version])
    }

    /// The final row, in the run's own transaction: succeeded (error nil) or failed with the reason.
    func finish(_ db: PostgresConnection, _ summary: RunSummary, error: String?) throws {
        func json<T: Encodable>(_ value: T) throws -> String {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            return String(decoding: try encoder.encode(value), as: UTF8.self)
        }
        try db.query("""
            UPDATE \(table) SET status = $2, finished_at = clock_timestamp(), rows_read = $3, rows_loaded = $4,
                rows_rejected = $5, rows_duplicate = $6, rows_unassigned = $7, inputs = $8::jsonb,
                rejects_by_reason = $9::jsonb, flags = $10::jsonb, error = $11, geocode_methods = $12::jsonb,
                pipeline_sha256 = $13, stage_seconds = $14::jsonb, as_of_date = $15::date
            WHERE run_id = $1
            """, [summary.runID, error == nil ? "succeeded" : "failed", String(summary.rowsRead), String(summary.rowsLoaded),
                  String(summary.rowsRejected), String(summary.rowsDuplicate), String(summary.rowsUnassigned),
                  try json(summary.inputs), try json(summary.rejectsByReason), try json(summary.flags), error,
                  try json(summary.geocodeMethods), summary.pipelineSHA256, try json(summary.stageSeconds),
                  summary.asOfDate.isEmpty ? nil : summary.asOfDate])
    }

    /// Best effort, in its own transaction after the run's was rolled back.
    func fail(_ db: PostgresConnection, runID: String, error: String) {
        _ = try? db.query("UPDATE \(table) SET status = 'failed', finished_at = clock_timestamp(), error = $2 WHERE run_id = $1",
                          [runID, error])
    }
}

public enum Khareetaty {
    public static let version = "0.1.0"
}
