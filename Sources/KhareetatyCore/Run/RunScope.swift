import Foundation
import Logging
import Postgres

/// The frame every run lives in, written once: a connection, the schema at the current version,
/// the run's lock (exclusive for a load or a backfill; none for a backfill worker, which locks
/// each chunk), its `running` ledger row, and what a failure or a signal leaves on that row.
/// `run`, `backfill` and the workers are short compositions inside it.
struct RunScope {
    enum Lock {
        /// One run per schema: wait up to this many seconds for the holder, then exit 75.
        case exclusive(wait: Int)
        case none
    }

    let db: PostgresConnection
    let runID: String
    let schema: String
    let ledger: RunLedger
    /// False for a dry run: no ledger row, no stale rows marked — no trace at all.
    let record: Bool
    let logger: Logger
    private let lock: Lock

    /// Connects, requires the current schema, takes the lock (marking dead runs' rows failed) and
    /// writes the run's `running` row.
    static func open(settings: Settings, runID: String, kind: String, label: String, pipelineFile: String, lock: Lock, record: Bool = true,
                     logger: Logger) throws -> RunScope {
        let db = try Database.connect(settings)
        try Migrator(connection: db, schema: settings.schema).requireCurrent()
        if case .exclusive(let wait) = lock {
            try RunLock.acquire(db, schema: settings.schema, wait: wait, runID: runID, markStale: record)
        }
        let scope = RunScope(db: db, runID: runID, schema: settings.schema, ledger: RunLedger(schema: settings.schema), record: record,
                             logger: logger, lock: lock)
        do {
            if record { try scope.ledger.start(db, runID: runID, kind: kind, pipeline: label, pipelineFile: pipelineFile) }
        } catch {
            scope.close()
            throw error
        }
        FaultPoint.afterLedgerStart.reach()
        return scope
    }

    /// Runs `body` with the connection's statements cancellable by a signal. A signal leaves the
    /// row `cancelled`, any other error `failed` with its (value-free) text; both are rethrown.
    func run<T>(_ body: () throws -> T) throws -> T {
        do {
            return try Cancellation.watching(db, body)
        } catch let cancelled as Cancelled {
            logger.warning("run cancelled and rolled back", metadata: ["signal": .stringConvertible(cancelled.signal)])
            if record { ledger.cancel(db, runID: runID, reason: cancelled.description) }
            throw cancelled
        } catch {
            if record { ledger.fail(db, runID: runID, error: RunLedger.text(of: error)) }
            throw error
        }
    }

    /// The row of a run without accounting (a backfill, a worker) that finished.
    func succeed() throws {
        if record { try ledger.succeed(db, runID: runID) }
    }

    func close() {
        if case .exclusive = lock { RunLock.release(db, schema: schema) }
    }
}
