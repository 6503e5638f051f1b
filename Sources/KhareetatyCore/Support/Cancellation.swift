import Foundation
#if canImport(Glibc)
import Glibc
#endif
import Logging
import Postgres

/// The run was stopped by a signal: rolled back, its ledger row `cancelled`, exit 130 or 143.
public struct Cancelled: ExitCodeProviding, CustomStringConvertible, Sendable {
    public var signal: Int32
    public var exitCode: ExitCode { signal == SIGINT ? .interrupted : .terminated }
    public var description: String {
        "cancelled by \(signal == SIGINT ? "SIGINT" : "SIGTERM"): the run was rolled back; nothing it did is committed"
    }
}

/// SIGTERM and SIGINT, turned into a clean stop: the first signal cancels the statement the run's
/// connection is executing (libpq's cancel request) and sets a flag the run checks between
/// batches and before its commit, so the transaction rolls back and the ledger says `cancelled`.
/// A second signal exits at once (the server rolls back an open transaction when its client
/// goes away). After the commit a signal changes nothing: the run is done.
public enum Cancellation {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var received: Int32?
    nonisolated(unsafe) private static var watched: CancelHandle?
    nonisolated(unsafe) private static var sources: [DispatchSourceSignal] = []

    /// Installs the handlers (once, at start-up of a command that runs a pipeline).
    public static func install(logger: Logger) {
        lock.lock()
        defer { lock.unlock() }
        guard sources.isEmpty else { return }
        for sig in [SIGTERM, SIGINT] {
            Glibc.signal(sig, SIG_IGN)  // delivered to the dispatch source instead of killing the process
            let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            source.setEventHandler { request(sig, logger: logger) }
            source.resume()
            sources.append(source)
        }
    }

    static func request(_ sig: Int32, logger: Logger) {
        lock.lock()
        let first = received == nil
        if first { received = sig }
        let handle = watched
        lock.unlock()
        let name = sig == SIGINT ? "SIGINT" : "SIGTERM"
        guard first else {
            logger.critical("second \(name): exiting now; the server rolls back the open transaction")
            exit(128 + sig)
        }
        logger.warning("\(name) received: cancelling the run; it rolls back and its ledger row says cancelled (send it again to exit at once)")
        handle?.cancel()
    }

    /// The signal received, if any.
    public static var receivedSignal: Int32? {
        lock.lock()
        defer { lock.unlock() }
        return received
    }

    /// Throws `Cancelled` once a signal has arrived.
    public static func check() throws {
        if let received = receivedSignal { throw Cancelled(signal: received) }
    }

    /// While `body` runs, a signal also cancels the statement `db` is executing.
    public static func watching<T>(_ db: PostgresConnection, _ body: () throws -> T) throws -> T {
        lock.lock()
        watched = db.cancelHandle()
        lock.unlock()
        defer {
            lock.lock()
            watched = nil
            lock.unlock()
        }
        do {
            return try body()
        } catch {
            // A statement the cancel request stopped fails with SQLSTATE 57014: it is the signal's doing.
            if let received = receivedSignal { throw Cancelled(signal: received) }
            throw error
        }
    }
}
