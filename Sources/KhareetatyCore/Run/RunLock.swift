import Foundation
import Postgres

/// Another run holds the target schema: a temporary failure (exit 75), worth retrying later.
public struct RunLocked: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var schema: String
    public var holder: String?
    public var waited: Int
    public var exitCode: ExitCode { .temporaryFailure }
    public var description: String {
        "another run holds schema \(schema)" + (holder.map { " (run \($0))" } ?? "")
            + (waited > 0 ? " and did not finish within \(waited) s" : "") + "; try again later, or pass --wait SECONDS"
    }
}

/// One run per target schema at a time: a session-level PostgreSQL advisory lock, held by the
/// run's connection, so it is released when the run ends — or when its process dies.
enum RunLock {
    static func key(_ schema: String) -> String { "khareetaty.run." + schema }

    /// Takes the lock, waiting up to `wait` seconds, then marks the ledger's dead runs failed
    /// (`RunLedger.markStale`: a live backfill worker holds no schema lock between months, so the
    /// lock alone cannot tell).
    static func acquire(_ db: PostgresConnection, schema: String, wait: Int, runID: String, markStale: Bool = true) throws {
        let deadline = Date().addingTimeInterval(TimeInterval(wait))
        while try db.query("SELECT pg_try_advisory_lock(hashtext($1))", [key(schema)]).scalar != "t" {
            if Date() >= deadline {
                let holder = try? db.query("""
                    SELECT run_id FROM \(quoteIdentifier(schema)).pipeline_runs WHERE status = 'running' ORDER BY started_at DESC LIMIT 1
                    """).scalar
                throw RunLocked(schema: schema, holder: holder ?? nil, waited: wait)
            }
            Thread.sleep(forTimeInterval: 0.25)
        }
        if markStale { try RunLedger(schema: schema).markStale(db, by: runID) }
    }

    static func release(_ db: PostgresConnection, schema: String) {
        _ = try? db.query("SELECT pg_advisory_unlock(hashtext($1))", [key(schema)])
    }
}
