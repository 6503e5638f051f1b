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

    func succeed(_ db: PostgresConnection, _ summary: RunSummary) throws {
        let inputs = String(decoding: try JSONEncoder().encode(summary.inputs), as: UTF8.self)
        try db.query("""
            UPDATE \(table) SET status = 'succeeded', finished_at = clock_timestamp(), rows_read = $2, rows_loaded = $3,
                rows_rejected = $4, rows_duplicate = $5, rows_unassigned = $6, inputs = $7::jsonb
            WHERE run_id = $1
            """, [summary.runID, String(summary.rowsRead), String(summary.rowsLoaded), String(summary.rowsRejected),
                  String(summary.rowsDuplicate), String(summary.rowsUnassigned), inputs])
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
