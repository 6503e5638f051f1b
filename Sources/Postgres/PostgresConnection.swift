import CLibPQ
import Foundation

/// One libpq connection. Owns its `PGconn*`, which never leaves this type; closed on deinit.
///
/// Not thread-safe (libpq connections aren't): use one connection from one task at a time.
public final class PostgresConnection {
    let conn: OpaquePointer
    /// Set while a `withTransaction` body runs, so nested calls are caught instead of silently
    /// committing the outer transaction early.
    private var inTransaction = false

    /// Connects with a libpq connection string (URI or keyword form). An empty string means
    /// libpq's defaults: the `PG*` environment variables and the service file.
    /// `defaults` (e.g. `connect_timeout`, `application_name`) apply where the string sets nothing.
    public init(conninfo: String, defaults: [(String, String)] = []) throws {
        // Defaults come first: with expand_dbname, later entries (the expanded string) override.
        let keywords = defaults.map(\.0) + ["dbname"]
        let values = defaults.map(\.1) + [conninfo]
        let conn: OpaquePointer? = withCStrings(keywords + [nil]) { keywordPointers in
            withCStrings(values + [nil]) { valuePointers in
                PQconnectdbParams(keywordPointers, valuePointers, 1)
            }
        }
        guard let conn else {
            throw PostgresError(kind: .connection, message: "out of memory allocating a connection")
        }
        guard PQstatus(conn) == CONNECTION_OK else {
            let message = Self.trimmed(PQerrorMessage(conn))
            let refused = PQconnectionNeedsPassword(conn) == 1 || PostgresError.isRefusal(message)
            PQfinish(conn)
            throw PostgresError(kind: refused ? .refused : .connection, message: message.isEmpty ? "could not connect" : message)
        }
        self.conn = conn
        // Our own notices (e.g. "schema already exists, skipping") are not the user's business.
        PQsetNoticeProcessor(conn, { _, _ in }, nil)
    }

    deinit { PQfinish(conn) }

    /// A handle that asks the server to cancel whatever this connection is running, callable from
    /// any thread (a signal handler's queue): libpq's PQcancel over a PGcancel taken up front.
    public func cancelHandle() -> CancelHandle? { PQgetCancel(conn).map(CancelHandle.init) }

    /// Server version as an integer, e.g. 150018 for 15.18.
    public var serverVersion: Int { Int(PQserverVersion(conn)) }

    /// The user and database actually connected to (for logs; never includes the password).
    public var endpoint: String {
        let user = PQuser(conn).map { String(cString: $0) } ?? "?"
        let db = PQdb(conn).map { String(cString: $0) } ?? "?"
        let host = PQhost(conn).map { String(cString: $0) } ?? "?"
        let port = PQport(conn).map { String(cString: $0) } ?? "?"
        return "\(user)@\(host):\(port)/\(db)"
    }

    // MARK: Statements

    /// Runs one or more SQL statements without parameters (DDL, migrations, SET ...).
    /// Never interpolate values into `sql`: use `query(_:_:)` for anything that carries data.
    public func execute(_ sql: String) throws {
        let result = PQexec(conn, sql)
        defer { PQclear(result) }
        try check(result, accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY])
    }

    /// Runs one statement with `$1, $2, …` parameters sent separately from the SQL text
    /// (text format; `nil` is SQL NULL). Returns all rows as text.
    @discardableResult
    public func query(_ sql: String, _ parameters: [String?] = []) throws -> QueryResult {
        let result = withCStrings(parameters) { pointers in
            PQexecParams(conn, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : pointers, nil, nil, 0)
        }
        defer { PQclear(result) }
        try check(result, accepting: [PGRES_COMMAND_OK, PGRES_TUPLES_OK])
        return QueryResult(result!)
    }

    // MARK: Transactions

    /// Runs `body` in a transaction: COMMIT when it returns, ROLLBACK when it throws (and the
    /// error is rethrown). No code path can leave the transaction open. `body` gets the
    /// `Transaction`, the handle every in-transaction statement goes through; it is dead once
    /// `body` returns, so a handle kept past its transaction fails instead of running in autocommit.
    @discardableResult
    public func withTransaction<T>(_ body: (Transaction) throws -> T) throws -> T {
        precondition(!inTransaction, "withTransaction does not nest; use one transaction per unit of work")
        try execute("BEGIN")
        inTransaction = true
        let transaction = Transaction(self)
        defer { inTransaction = false; transaction.end() }
        let value: T
        do {
            value = try body(transaction)
        } catch {
            // The connection may be broken; the original error is the one that matters.
            _ = try? execute("ROLLBACK")
            throw error
        }
        try execute("COMMIT")
        return value
    }

    // MARK: Internals

    func check(_ result: OpaquePointer?, accepting: [ExecStatusType]) throws {
        guard let result else {
            throw PostgresError(kind: .connection, message: Self.trimmed(PQerrorMessage(conn)))
        }
        let status = PQresultStatus(result)
        if accepting.contains(status) { return }
        throw error(from: result)
    }

    func error(from result: OpaquePointer) -> PostgresError {
        func field(_ code: Character) -> String? {
            guard let value = PQresultErrorField(result, Int32(code.asciiValue!)) else { return nil }
            return String(cString: value)
        }
        let sqlState = field("C")
        let primary = field("M") ?? Self.trimmed(PQresultErrorMessage(result))
        let broken = PQstatus(conn) != CONNECTION_OK
        return PostgresError(
            kind: broken ? .connection : .query,
            sqlState: sqlState,
            message: primary.isEmpty ? Self.trimmed(PQerrorMessage(conn)) : primary,
            detail: field("D"),
            hint: field("H")
        )
    }

    static func trimmed(_ message: UnsafePointer<CChar>?) -> String {
        guard let message else { return "" }
        var text = String(cString: message)
        while let last = text.last, last.isWhitespace { text.removeLast() }
        return text
    }
}

/// Calls `body` with a C array of NUL-terminated copies of `strings` (`nil` stays NULL).
private func withCStrings<R>(_ strings: [String?], _ body: (UnsafePointer<UnsafePointer<CChar>?>) -> R) -> R {
    let owned: [UnsafeMutablePointer<CChar>?] = strings.map { $0.map { strdup($0)! } } + [nil]
    defer { owned.forEach { free($0) } }
    let borrowed = owned.map { UnsafePointer($0) }
    return borrowed.withUnsafeBufferPointer { body($0.baseAddress!) }
}

/// Cancels the statement a connection is running (libpq's PGcancel; thread-safe by design).
public final class CancelHandle: @unchecked Sendable {
    private let handle: OpaquePointer
    init(_ handle: OpaquePointer) { self.handle = handle }
    deinit { PQfreeCancel(handle) }

    /// Sends the cancel request; true when the server received it.
    @discardableResult
    public func cancel() -> Bool {
        var message = [CChar](repeating: 0, count: 256)
        return PQcancel(handle, &message, Int32(message.count)) == 1
    }
}
